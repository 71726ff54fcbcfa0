DROP INDEX `tasks_org_due`;--> statement-breakpoint
ALTER TABLE `tasks` ADD `due_sort` text GENERATED ALWAYS AS (coalesce(due_date, '~')) VIRTUAL;--> statement-breakpoint
CREATE INDEX `tasks_org_due_sort` ON `tasks` (`org_id`,`due_sort`,`created_at`,`id`);