-- A SQL-standard function body: BEGIN ATOMIC ... END is one statement.
CREATE FUNCTION post_count(uid bigint) RETURNS bigint
LANGUAGE sql
BEGIN ATOMIC
    SELECT count(*) FROM posts WHERE user_id = uid;
END;

COMMENT ON FUNCTION post_count(bigint) IS 'Posts written by a user; counts drafts too.';
