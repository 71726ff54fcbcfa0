CREATE TABLE `task_counts` (
	`org_id` text NOT NULL,
	`project_id` text NOT NULL,
	`status` text NOT NULL,
	`priority` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`org_id`, `project_id`, `status`, `priority`)
);
--> statement-breakpoint
DROP INDEX `comments_task_created`;--> statement-breakpoint
CREATE INDEX `comments_task_created` ON `comments` (`task_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `events_org_type_created`;--> statement-breakpoint
DROP INDEX `events_org_resource_created`;--> statement-breakpoint
CREATE INDEX `events_org_type_created` ON `events` (`org_id`,`type`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_org_resource_created` ON `events` (`org_id`,`resource_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `tasks_org_updated`;--> statement-breakpoint
DROP INDEX `tasks_org_due`;--> statement-breakpoint
DROP INDEX `tasks_org_priority`;--> statement-breakpoint
DROP INDEX `tasks_org_title`;--> statement-breakpoint
DROP INDEX `tasks_org_project_status_created`;--> statement-breakpoint
DROP INDEX `tasks_org_status_created`;--> statement-breakpoint
DROP INDEX `tasks_org_assignee_created`;--> statement-breakpoint
ALTER TABLE `tasks` ADD `priority_rank` integer GENERATED ALWAYS AS (CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 WHEN 'urgent' THEN 3 END) VIRTUAL;--> statement-breakpoint
CREATE INDEX `tasks_org_project_created` ON `tasks` (`org_id`,`project_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_updated` ON `tasks` (`org_id`,`updated_at`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_due` ON `tasks` (`org_id`,("due_date" IS NULL),`due_date`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_priority` ON `tasks` (`org_id`,`priority_rank`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_title` ON `tasks` (`org_id`,"title" COLLATE NOCASE,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_project_status_created` ON `tasks` (`org_id`,`project_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_status_created` ON `tasks` (`org_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_org_assignee_created` ON `tasks` (`org_id`,`assignee_id`,`created_at`,`id`);--> statement-breakpoint
-- task_counts follows every write to tasks, whoever makes it (see src/db/schema.ts).
CREATE TRIGGER `task_counts_after_insert` AFTER INSERT ON `tasks` BEGIN
  INSERT INTO `task_counts` (`org_id`, `project_id`, `status`, `priority`, `n`)
    VALUES (NEW.`org_id`, NEW.`project_id`, NEW.`status`, NEW.`priority`, 1)
    ON CONFLICT (`org_id`, `project_id`, `status`, `priority`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `task_counts_after_delete` AFTER DELETE ON `tasks` BEGIN
  UPDATE `task_counts` SET `n` = `n` - 1
    WHERE `org_id` = OLD.`org_id` AND `project_id` = OLD.`project_id` AND `status` = OLD.`status` AND `priority` = OLD.`priority`;
END;--> statement-breakpoint
CREATE TRIGGER `task_counts_after_update` AFTER UPDATE OF `project_id`, `status`, `priority` ON `tasks`
  WHEN OLD.`project_id` IS NOT NEW.`project_id` OR OLD.`status` IS NOT NEW.`status` OR OLD.`priority` IS NOT NEW.`priority`
BEGIN
  UPDATE `task_counts` SET `n` = `n` - 1
    WHERE `org_id` = OLD.`org_id` AND `project_id` = OLD.`project_id` AND `status` = OLD.`status` AND `priority` = OLD.`priority`;
  INSERT INTO `task_counts` (`org_id`, `project_id`, `status`, `priority`, `n`)
    VALUES (NEW.`org_id`, NEW.`project_id`, NEW.`status`, NEW.`priority`, 1)
    ON CONFLICT (`org_id`, `project_id`, `status`, `priority`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
CREATE TRIGGER `task_counts_after_project_delete` AFTER DELETE ON `projects` BEGIN
  DELETE FROM `task_counts` WHERE `org_id` = OLD.`org_id` AND `project_id` = OLD.`id`;
END;--> statement-breakpoint
INSERT INTO `task_counts` (`org_id`, `project_id`, `status`, `priority`, `n`)
  SELECT `org_id`, `project_id`, `status`, `priority`, COUNT(*) FROM `tasks` GROUP BY `org_id`, `project_id`, `status`, `priority`;
