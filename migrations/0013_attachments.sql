CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`task_id` text NOT NULL,
	`name` text NOT NULL,
	`size` integer NOT NULL,
	`content_type` text NOT NULL,
	`sha256` text NOT NULL,
	`uploaded_by_user_id` text,
	`uploaded_by_api_key_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `attachments_task_created` ON `attachments` (`task_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `attachments_org` ON `attachments` (`org_id`);--> statement-breakpoint
CREATE TABLE `pending_object_deletions` (
	`key` text PRIMARY KEY NOT NULL,
	`due_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pending_object_deletions_due` ON `pending_object_deletions` (`due_at`);