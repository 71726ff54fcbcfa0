// Deleting attachment objects from R2 robustly: the D1 batch that removes attachment
// rows also records their keys in `pending_object_deletions`; the objects are deleted
// right after the commit and the cron deletes whatever that missed.
import { and, asc, eq, gt, inArray, lt, lte, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { drizzle } from "drizzle-orm/d1";
import { isoPlusSeconds, nowIso } from "../core/time";
import { attachments, pendingObjectDeletions, tasks } from "../db/schema";

/** R2 deletes at most 1000 keys per call. */
const DELETE_BATCH = 1000;
/** D1 binds at most 100 parameters per statement. */
const KEYS_PER_STATEMENT = 99;
/** An upload's reservation outlives any upload; after it, the cron removes what a crash left. */
export const UPLOAD_RESERVATION_SECONDS = 3600;

/** The R2 key of an attachment: its organization's prefix, then its id. */
export const objectKey = (orgId: string, attachmentId: string) => `${orgId}/${attachmentId}`;

/** Reserves a key before its upload starts: if the upload never commits, the cron deletes the object. */
export function reserveKey(db: DrizzleD1Database, key: string, now: string) {
  return db
    .insert(pendingObjectDeletions)
    .values({ key, dueAt: isoPlusSeconds(UPLOAD_RESERVATION_SECONDS, Date.parse(now)) })
    .onConflictDoNothing();
}

/** Releases a reservation: for the batch that commits the attachment's row. */
export function releaseKey(db: DrizzleD1Database, key: string) {
  return db.delete(pendingObjectDeletions).where(eq(pendingObjectDeletions.key, key));
}

/** Marks one key for deletion now: for the batch that deletes its attachment's row. */
export function doomKey(db: DrizzleD1Database, key: string, now: string) {
  return db
    .insert(pendingObjectDeletions)
    .values({ key, dueAt: now })
    .onConflictDoUpdate({ target: pendingObjectDeletions.key, set: { dueAt: now } });
}

/**
 * The statements removing the attachments of the tasks `taskWhere` selects (a
 * condition on `tasks`): their keys marked for deletion, then the rows. Constant
 * bound parameters however many attachments (a project of 10,000 tasks).
 */
export function removeTaskAttachments(
  db: DrizzleD1Database,
  orgId: string,
  taskWhere: SQL,
  now: string,
): BatchItem<"sqlite">[] {
  const ofTasks = sql`${attachments.taskId} IN (SELECT ${tasks.id} FROM ${tasks} WHERE ${tasks.orgId} = ${orgId} AND ${taskWhere})`;
  return [
    db
      .insert(pendingObjectDeletions)
      .select(
        sql`SELECT ${attachments.orgId} || '/' || ${attachments.id}, ${now} FROM ${attachments}
          WHERE ${attachments.orgId} = ${orgId} AND ${ofTasks}`,
      )
      .onConflictDoNothing(),
    db.delete(attachments).where(and(eq(attachments.orgId, orgId), ofTasks)),
  ];
}

/**
 * Deletes the objects of `prefix` (an organization's `org_…/`, or "" for all) whose
 * deletion was due by `now`, 1000 per R2 call, and forgets their keys. A failure
 * leaves the keys for the next run. Returns how many objects it deleted.
 */
export async function purgeDueObjects(
  db: DrizzleD1Database,
  bucket: R2Bucket,
  { prefix = "", now = nowIso(), maxRounds = 20 }: { prefix?: string; now?: string; maxRounds?: number } = {},
): Promise<number> {
  let deleted = 0;
  let after = prefix;
  for (let round = 0; round < maxRounds; round++) {
    const inPrefix = prefix
      ? and(gt(pendingObjectDeletions.key, after), lt(pendingObjectDeletions.key, `${prefix}~`))
      : gt(pendingObjectDeletions.key, after);
    const rows = await db
      .select({ key: pendingObjectDeletions.key })
      .from(pendingObjectDeletions)
      .where(and(inPrefix, lte(pendingObjectDeletions.dueAt, now)))
      .orderBy(asc(pendingObjectDeletions.key))
      .limit(DELETE_BATCH);
    if (rows.length === 0) break;
    const keys = rows.map((row) => row.key);
    try {
      await bucket.delete(keys);
      const forget: BatchItem<"sqlite">[] = [];
      for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
        forget.push(
          db
            .delete(pendingObjectDeletions)
            .where(inArray(pendingObjectDeletions.key, keys.slice(i, i + KEYS_PER_STATEMENT))),
        );
      }
      await db.batch(forget as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "attachment object deletion failed; the cron retries",
          error: String(error),
        }),
      );
      break;
    }
    deleted += keys.length;
    after = keys.at(-1)!;
    if (rows.length < DELETE_BATCH) break;
  }
  return deleted;
}

/** After a commit that marked an organization's objects for deletion: delete them now, failures left to the cron. */
export async function purgeOrgObjects(db: DrizzleD1Database, bucket: R2Bucket | undefined, orgId: string, now: string) {
  if (!bucket) return;
  try {
    await purgeDueObjects(db, bucket, { prefix: `${orgId}/`, now });
  } catch (error) {
    // The write has committed: its answer stands, and the cron deletes the objects.
    console.error(JSON.stringify({ level: "error", msg: "attachment object purge failed", error: String(error) }));
  }
}

/** The cron's share: every object whose deletion is due, including uploads that never committed. */
export async function sweepDueObjects(env: { DB: D1Database; FILES: R2Bucket }): Promise<number> {
  return purgeDueObjects(drizzle(env.DB), env.FILES);
}
