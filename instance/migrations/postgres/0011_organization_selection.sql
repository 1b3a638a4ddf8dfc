-- Whether an application's sign-ins ask the user for one of their organizations when the
-- authorization request names none: `none` (never), `optional` (the user may continue without)
-- or `required` (the user must end up in one).
ALTER TABLE applications ADD COLUMN organization_selection TEXT NOT NULL DEFAULT 'none';
