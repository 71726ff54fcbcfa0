CREATE TABLE `signing_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`algorithm` text NOT NULL,
	`public_key_pem` text NOT NULL,
	`public_key_jwk` text NOT NULL,
	`private_key_ciphertext` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `signing_keys_org_algorithm` ON `signing_keys` (`org_id`,`algorithm`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `signing_keys_active` ON `signing_keys` (`org_id`,`algorithm`) WHERE expires_at is null;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `signature_scheme` text DEFAULT 'hmac-sha256' NOT NULL;