ALTER TABLE `delivery_attempts` ADD `webhook_id` text;--> statement-breakpoint
CREATE INDEX `delivery_attempts_webhook_attempted` ON `delivery_attempts` (`webhook_id`,`attempted_at`);--> statement-breakpoint
CREATE INDEX `events_org_resource_type_created` ON `events` (`org_id`,`resource_type`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_org_actor_user_created` ON `events` (`org_id`,`actor_user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_org_actor_key_created` ON `events` (`org_id`,`actor_api_key_id`,`created_at`,`id`) WHERE actor_api_key_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `events_org_actor_incoming_created` ON `events` (`org_id`,`actor_incoming_webhook_id`,`created_at`,`id`) WHERE actor_incoming_webhook_id IS NOT NULL;--> statement-breakpoint
-- Existing attempts take their webhook from their delivery, so the stats endpoint sees them.
UPDATE `delivery_attempts` SET `webhook_id` = (SELECT `webhook_id` FROM `deliveries` WHERE `deliveries`.`id` = `delivery_attempts`.`delivery_id`) WHERE `webhook_id` IS NULL;
