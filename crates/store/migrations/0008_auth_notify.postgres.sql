-- The authenticated-caller cache (ADR 0022): every committed change to a table a caller is
-- read from (`Store::load_caller`) notifies `roster_auth`, so each instance's listener drops
-- what it cached. Statement triggers: one notification per statement however many rows it
-- touches, and PostgreSQL folds identical notifications of one transaction into one, sent at
-- commit (none on rollback). TRUNCATE skips row triggers, so it is covered too.
CREATE OR REPLACE FUNCTION roster_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('roster_auth', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
CREATE TRIGGER organizations_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
CREATE TRIGGER memberships_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
CREATE TRIGGER permissions_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
-- a person's link to a user (`user_id`) and its removal (`removed_at`)
CREATE TRIGGER people_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
-- the Admin API's user listing also shows each person's Productive and Xero ids
CREATE TRIGGER external_ids_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON external_ids
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
-- revocable credentials: personal API tokens and browser sessions
CREATE TRIGGER api_tokens_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
CREATE TRIGGER sessions_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION roster_auth_changed();
