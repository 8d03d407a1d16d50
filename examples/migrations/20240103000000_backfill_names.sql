-- atlas:txmode none

-- Runs outside a transaction: CONCURRENTLY cannot run inside one.
CREATE INDEX CONCURRENTLY posts_user_id ON posts (user_id);

UPDATE users SET name = split_part(email, '@', 1) WHERE name IS NULL;
