-- Likes become reactions of any kind; the old table and the unused
-- nickname column go away (destructive: both are dropped).
CREATE TABLE reactions (
  post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL DEFAULT 'like',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (post_id, user_id, kind)
);
INSERT INTO reactions (post_id, user_id, kind, created_at)
  SELECT post_id, user_id, 'like', created_at FROM post_likes;
DROP TABLE post_likes;
ALTER TABLE users DROP COLUMN nickname;
