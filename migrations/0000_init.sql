CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`scope` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`expires_at` text,
	`revoked_at` text,
	`last_used_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_org_created` ON `api_keys` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `api_keys_user` ON `api_keys` (`user_id`);--> statement-breakpoint
CREATE TABLE `comments` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`task_id` text NOT NULL,
	`author_id` text NOT NULL,
	`content` text NOT NULL,
	`mentions` text DEFAULT '[]' NOT NULL,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `comments_task_created` ON `comments` (`task_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `comments_org` ON `comments` (`org_id`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_webhook_event` ON `deliveries` (`webhook_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_webhook_created` ON `deliveries` (`webhook_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_webhook_status_created` ON `deliveries` (`webhook_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`attempt_number` integer NOT NULL,
	`attempted_at` text NOT NULL,
	`status_code` integer,
	`response_time_ms` integer,
	`error` text,
	`next_attempt_at` text
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_delivery` ON `delivery_attempts` (`delivery_id`,`attempt_number`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`type` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`data` text NOT NULL,
	`changes` text,
	`actor_user_id` text,
	`actor_api_key_id` text,
	`actor_incoming_webhook_id` text,
	`created_at` text NOT NULL,
	`enqueued_at` text,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `events_org_created` ON `events` (`org_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_org_type_created` ON `events` (`org_id`,`type`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_org_resource_created` ON `events` (`org_id`,`resource_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_unenqueued` ON `events` (`created_at`) WHERE enqueued_at IS NULL;--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`org_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer,
	`response_body` text,
	`location` text,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	PRIMARY KEY(`org_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_expires` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `incoming_webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`permissions` text NOT NULL,
	`ip_allowlist` text DEFAULT '[]' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_by` text NOT NULL,
	`last_used_at` text,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incoming_webhooks_hash` ON `incoming_webhooks` (`key_hash`);--> statement-breakpoint
CREATE INDEX `incoming_webhooks_org` ON `incoming_webhooks` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`plan` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`icon` text,
	`color` text,
	`archived` integer DEFAULT false NOT NULL,
	`created_by` text NOT NULL,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `projects_org_created` ON `projects` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `projects_org_updated` ON `projects` (`org_id`,`updated_at`);--> statement-breakpoint
CREATE INDEX `projects_org_name` ON `projects` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `task_tags` (
	`task_id` text NOT NULL,
	`org_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`task_id`, `tag`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `task_tags_org_tag` ON `task_tags` (`org_id`,`tag`,`task_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`project_id` text NOT NULL,
	`title` text NOT NULL,
	`description` text,
	`status` text NOT NULL,
	`priority` text NOT NULL,
	`assignee_id` text,
	`due_date` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`created_by` text NOT NULL,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`completed_at` text,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tasks_org_created` ON `tasks` (`org_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_updated` ON `tasks` (`org_id`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_due` ON `tasks` (`org_id`,`due_date`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_priority` ON `tasks` (`org_id`,`priority`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_org_title` ON `tasks` (`org_id`,`title`);--> statement-breakpoint
CREATE INDEX `tasks_org_project_status_created` ON `tasks` (`org_id`,`project_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_org_status_created` ON `tasks` (`org_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_org_assignee_created` ON `tasks` (`org_id`,`assignee_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_org_completed` ON `tasks` (`org_id`,`completed_at`);--> statement-breakpoint
CREATE INDEX `tasks_project` ON `tasks` (`project_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_org_email` ON `users` (`org_id`,`email`);--> statement-breakpoint
CREATE INDEX `users_org_created` ON `users` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `users_org_name` ON `users` (`org_id`,`name`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`filter_project_id` text,
	`filter_assignee_id` text,
	`description` text,
	`enabled` integer DEFAULT true NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`previous_secret_ciphertext` text,
	`previous_secret_expires_at` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`disabled_reason` text,
	`last_triggered_at` text,
	`delivered_count` integer DEFAULT 0 NOT NULL,
	`failed_count` integer DEFAULT 0 NOT NULL,
	`etag` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `webhooks_org_created` ON `webhooks` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `write_guards` (
	`ok` integer NOT NULL,
	CONSTRAINT "write_guards_ok" CHECK("write_guards"."ok" = 1)
);
