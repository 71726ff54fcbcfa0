ALTER TABLE `webhooks` ADD `failure_alert_threshold` real;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `failing_alerted_at` text;