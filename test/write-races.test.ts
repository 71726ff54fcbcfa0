import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { createComment, deleteComment, updateComment } from "../src/comments/comments";
import { AppError } from "../src/core/errors";
import { StaleWriteError, type WriteContext } from "../src/core/write-context";
import { keyRecordsOf } from "../src/identity/key-cache";
import { deleteProject, updateProject } from "../src/projects/projects";
import { createTask, deleteTask, updateTask } from "../src/tasks/tasks";
import { eventCount, makeComment, makeProject, makeTask } from "./fixtures";
import { createOrg, type TestOrg } from "./harness";

/**
 * A WriteContext whose database lets another writer in between the domain's reads and
 * its commit: right before the first batch that writes (3+ statements), `interloper`
 * runs. That is the race D1's batches must survive without interactive transactions.
 */
function racingContext(org: TestOrg, interloper: () => Promise<unknown>): WriteContext {
  const db = drizzle(env.DB);
  let fired = false;
  const racing = new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return async (items: Parameters<typeof db.batch>[0]) => {
          if (!fired && items.length >= 3) {
            fired = true;
            await interloper();
          }
          return target.batch(items);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: racing,
    orgId: org.id,
    actor: { userId: org.owner.id, apiKeyId: org.keyIds.write, role: "owner" as const },
    keys: keyRecordsOf(env),
    now: () => new Date().toISOString(),
    afterCommit: () => {},
  };
}

const touch = (table: string, id: string) =>
  env.DB.prepare(`UPDATE ${table} SET etag = ? WHERE id = ?`).bind(`meanwhile-${crypto.randomUUID()}`, id).run();

async function row(table: string, id: string) {
  return env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?`).bind(id).first<Record<string, unknown>>();
}

describe("writes that lose a race roll back whole: no change, no event", () => {
  it("task update and delete", async () => {
    const org = await createOrg();
    const task = await makeTask(org, (await makeProject(org)).id);
    const events = await eventCount(org.id);
    await expect(
      updateTask(
        racingContext(org, () => touch("tasks", task.id)),
        { id: task.id, patch: { title: "lost" } },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    await expect(
      deleteTask(
        racingContext(org, () => touch("tasks", task.id)),
        { id: task.id },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect((await row("tasks", task.id))?.title).toBe("Task");
    expect(await eventCount(org.id)).toBe(events);
  });

  it("project update and delete (the cascade included)", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const events = await eventCount(org.id);
    await expect(
      updateProject(
        racingContext(org, () => touch("projects", project.id)),
        { id: project.id, patch: { name: "lost" } },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    await expect(
      deleteProject(
        racingContext(org, () => touch("projects", project.id)),
        { id: project.id },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect((await row("projects", project.id))?.name).toBe("Project");
    expect(await row("tasks", task.id)).not.toBeNull();
    expect(await eventCount(org.id)).toBe(events);
  });

  it("comment update and delete", async () => {
    const org = await createOrg();
    const task = await makeTask(org, (await makeProject(org)).id);
    const comment = await makeComment(org, task.id);
    const events = await eventCount(org.id);
    await expect(
      updateComment(
        racingContext(org, () => touch("comments", comment.id)),
        { id: comment.id, patch: { content: "lost" } },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    await expect(
      deleteComment(
        racingContext(org, () => touch("comments", comment.id)),
        { id: comment.id },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect((await row("comments", comment.id))?.content).toBe("A comment");
    expect(await eventCount(org.id)).toBe(events);
  });

  it("a task is not created in, nor moved into, a project archived meanwhile", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const target = await makeProject(org);
    const task = await makeTask(org, project.id);
    const archive = (id: string) => () =>
      env.DB.prepare("UPDATE projects SET archived = 1 WHERE id = ?").bind(id).run();
    const events = await eventCount(org.id);
    const created = createTask(racingContext(org, archive(project.id)), { title: "lost", projectId: project.id });
    await expect(created).rejects.toBeInstanceOf(AppError);
    await expect(created).rejects.toMatchObject({ code: "CONFLICT", field: "projectId" });
    await expect(
      updateTask(racingContext(org, archive(target.id)), { id: task.id, patch: { projectId: target.id } }),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect((await row("tasks", task.id))?.project_id).toBe(project.id);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE org_id = ?")
      .bind(org.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
    expect(await eventCount(org.id)).toBe(events);
  });

  it("a comment on a task deleted meanwhile is a 404 and leaves nothing behind", async () => {
    const org = await createOrg();
    const task = await makeTask(org, (await makeProject(org)).id);
    const events = await eventCount(org.id);
    const removeTask = () =>
      env.DB.batch([
        env.DB.prepare("DELETE FROM task_tags WHERE task_id = ?").bind(task.id),
        env.DB.prepare("DELETE FROM tasks WHERE id = ?").bind(task.id),
      ]);
    const attempt = createComment(racingContext(org, removeTask), { taskId: task.id, content: "orphan?" });
    await expect(attempt).rejects.toMatchObject({ code: "NOT_FOUND" });
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM comments WHERE task_id = ?")
      .bind(task.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(0);
    expect(await eventCount(org.id)).toBe(events);
  });
});
