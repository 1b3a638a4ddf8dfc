-- The address of the member who created an account: its instances mail it about their
-- operation (a webhook endpoint disabled after a day of failures). Unknown for older accounts.
ALTER TABLE accounts ADD COLUMN created_by_email TEXT;
