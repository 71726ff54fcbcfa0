CREATE TABLE `event_counts` (
	`org_id` text NOT NULL,
	`type` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`org_id`, `type`)
);
--> statement-breakpoint
-- Hand-written (drizzle-kit does not model triggers): event_counts follows every
-- insert into the event log, which is append-only.
CREATE TRIGGER `event_counts_after_insert` AFTER INSERT ON `events` BEGIN
  INSERT INTO `event_counts` (`org_id`, `type`, `n`) VALUES (NEW.`org_id`, NEW.`type`, 1)
    ON CONFLICT (`org_id`, `type`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
INSERT INTO `event_counts` (`org_id`, `type`, `n`)
  SELECT `org_id`, `type`, COUNT(*) FROM `events` GROUP BY `org_id`, `type`;
