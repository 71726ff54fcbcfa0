-- Hand-corrected: drizzle-kit splits a function-call index expression at its comma.
CREATE INDEX `deliveries_pending_due` ON `deliveries` (coalesce(`next_attempt_at`, `created_at`)) WHERE status = 'pending';
