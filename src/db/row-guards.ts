import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { writeGuards } from "./schema";

/**
 * Batch statements that roll the whole D1 batch back unless `table` has a row
 * matching `where` at commit time (see `write_guards`): for facts a write depends on
 * but does not change, e.g. "the project still exists and is not archived".
 */
export function requireRow(db: DrizzleD1Database, table: SQLiteTable, where: SQL): BatchItem<"sqlite">[] {
  return [
    db.insert(writeGuards).select(
      db
        .select({ ok: sql<number>`(count(*) > 0)`.as("ok") })
        .from(table)
        .where(where),
    ),
    db.delete(writeGuards),
  ];
}

/** Whether a batch failed because one of its guards found its row changed or gone. */
export function isGuardFailure(error: unknown): boolean {
  return String(error).includes("write_guards_ok");
}
