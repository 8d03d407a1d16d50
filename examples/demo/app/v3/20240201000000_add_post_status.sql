-- Drafts: every existing post counts as published.
ALTER TABLE posts ADD COLUMN status TEXT NOT NULL DEFAULT 'published';
CREATE INDEX posts_status ON posts (status, published_at);
UPDATE posts SET status = 'draft' WHERE published_at IS NULL;
