-- Machine applications (kind `machine`): clients that act for themselves through the
-- client_credentials grant. `permissions` is what an administrator allowed the application, a
-- JSON array of names from the permission catalogue; a token carries those still in the
-- catalogue when it is minted. Other kinds keep the empty list.
ALTER TABLE applications ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
