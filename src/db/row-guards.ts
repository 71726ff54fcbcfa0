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
export function requireRow(
  db: DrizzleD1Database,
  table: SQLiteTable,
  where: SQL,
): [BatchItem<"sqlite">, BatchItem<"sqlite">] {
  return requireCount(db, table, where, sql`count(*) > 0`);
}

/** Like `requireRow`, but the batch stands only while `table` has at most `max` rows matching `where` (a plan limit). */
export function requireAtMost(
  db: DrizzleD1Database,
  table: SQLiteTable,
  where: SQL,
  max: number,
): [BatchItem<"sqlite">, BatchItem<"sqlite">] {
  return requireCount(db, table, where, sql`count(*) <= ${max}`);
}

function requireCount(
  db: DrizzleD1Database,
  table: SQLiteTable,
  where: SQL,
  holds: SQL,
): [BatchItem<"sqlite">, BatchItem<"sqlite">] {
  return [
    db.insert(writeGuards).select(
      db
        .select({ ok: sql<number>`(${holds})`.as("ok") })
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

/** `requireRow` for batches of raw D1 statements: `condition` is a SELECT of one truth value. */
export function requireRowPrepared(db: D1Database, condition: string, params: unknown[]): D1PreparedStatement[] {
  return [
    db.prepare(`INSERT INTO write_guards (ok) ${condition}`).bind(...params),
    db.prepare("DELETE FROM write_guards"),
  ];
}

/** A drizzle statement as a raw D1 one, for batches written in raw SQL. */
export function prepared(db: D1Database, statement: BatchItem<"sqlite">): D1PreparedStatement {
  const { sql: text, params } = (statement as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
  return db.prepare(text).bind(...params);
}
