import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Changes } from "../src/core/write-context";
import type { Env } from "../src/env";
import type { EventType } from "../src/events/catalog";
import { fanOutEvent, webhookMatches } from "../src/webhooks/fanout";
import type { WebhookEvents } from "../src/webhooks/webhooks";
import { makeProject, makeTask } from "./fixtures";
import { call, createOrg } from "./harness";
import {
  createWebhook,
  deliveriesOf,
  payloadOf,
  receivedBy,
  receiverEndpoint,
  waitForRequests,
} from "./webhook-helpers";
import { insertEvent, runQueue } from "./webhook-queue";

// Real deliveries: the API commits an event, the local queue runs the Worker's own
// consumer, which POSTs to a Node HTTP server on 127.0.0.1 (test/webhook-receiver.setup.mjs).

// Each event crosses the local queue twice (fan-out, then delivery), ~1 s batch wait each.
describe("webhooks: real signed deliveries", { timeout: 40_000 }, () => {
  it("fans task events out by subscription and filters, with changes on updates", async () => {
    const org = await createOrg();
    const watched = await makeProject(org, { name: "Watched" });
    const other = await makeProject(org, { name: "Other" });
    const all = receiverEndpoint("all");
    const byProject = receiverEndpoint("by-project");
    const byAssignee = receiverEndpoint("by-assignee");
    const completions = receiverEndpoint("completions");
    const allHook = await createWebhook(org, { url: all.url, events: ["*"] });
    const projectHook = await createWebhook(org, {
      url: byProject.url,
      events: ["*"],
      filters: { projectId: watched.id },
    });
    const assigneeHook = await createWebhook(org, {
      url: byAssignee.url,
      events: ["task.created", "task.updated", "task.assigned"],
      filters: { assigneeId: org.member.id },
    });
    await createWebhook(org, { url: completions.url, events: ["task.completed"] });

    const mine = await makeTask(org, watched.id, { title: "Mine", assigneeId: org.member.id });
    const theirs = await makeTask(org, other.id, { title: "Theirs" });
    const patched = await call("PATCH", `/v1/tasks/${mine.id}`, { key: org.keys.write, body: { title: "Mine!" } });
    expect(patched.status).toBe(200);
    for (const project of [watched, other]) {
      const renamed = await call("PATCH", `/v1/projects/${project.id}`, {
        key: org.keys.write,
        body: { name: "Renamed" },
      });
      expect(renamed.status).toBe(200);
    }

    // task.created ×2, task.assigned, task.updated, project.updated ×2. The projects'
    // project.created came before the webhooks existed: a webhook hears only of later events.
    const received = await waitForRequests(all.name, 6);
    const types = received.map((r) => `${r.headers["x-verk-event"]}:${payloadOf(r).data.id}`).sort();
    expect(types).toEqual(
      [
        `project.updated:${other.id}`,
        `project.updated:${watched.id}`,
        `task.assigned:${mine.id}`,
        `task.created:${mine.id}`,
        `task.created:${theirs.id}`,
        `task.updated:${mine.id}`,
      ].sort(),
    );
    const update = received.map(payloadOf).find((p) => p.event === "task.updated")!;
    expect(update.changes).toMatchObject({ title: { from: "Mine", to: "Mine!" } });
    expect(update.data).toMatchObject({ id: mine.id, title: "Mine!", assigneeId: org.member.id });

    // Fan-out writes every delivery of an event at once, so the other logs are final now.
    const projectLog = await deliveriesOf(org, projectHook.id, "?limit=100");
    // A project filter matches the project's own events too (data.id), not the other project's.
    expect(projectLog.map((d) => d.event).sort()).toEqual([
      "project.updated",
      "task.assigned",
      "task.created",
      "task.updated",
    ]);
    const assigneeLog = await deliveriesOf(org, assigneeHook.id, "?limit=100");
    expect(assigneeLog.map((d) => d.event).sort()).toEqual(["task.assigned", "task.created", "task.updated"].sort());
    const filteredByEvent = await deliveriesOf(org, allHook.id, "?event=task.created");
    expect(filteredByEvent.map((d) => d.event)).toEqual(["task.created", "task.created"]);
    await waitForRequests(byProject.name, 4);
    await waitForRequests(byAssignee.name, 3);
    expect(await receivedBy(completions.name)).toEqual([]);
  });
});

// The consumer called directly with built batches (test/webhook-queue.ts): events and
// deliveries written straight to D1, never enqueued, so the local queue's own consumer leaves them alone.

describe("webhooks queue: fan-out", () => {
  it("creates one delivery per webhook whose events and filters match, disabled ones included, and acks", async () => {
    const org = await createOrg();
    const url = receiverEndpoint("fanout").url;
    const exact = await createWebhook(org, { url, events: ["task.created"] });
    const wildcard = await createWebhook(org, { url, events: ["*"] });
    const otherType = await createWebhook(org, { url, events: ["task.deleted"] });
    const disabled = await createWebhook(org, { url, events: ["*"], enabled: false });
    const projectMatch = await createWebhook(org, { url, events: ["*"] });
    const projectMiss = await createWebhook(org, { url, events: ["*"] });
    const assigneeMatch = await createWebhook(org, { url, events: ["*"] });
    // Filters by ids that need not exist for matching; set them directly.
    await env.DB.batch([
      env.DB.prepare("UPDATE webhooks SET filter_project_id = 'proj_A' WHERE id = ?").bind(projectMatch.id),
      env.DB.prepare("UPDATE webhooks SET filter_project_id = 'proj_B' WHERE id = ?").bind(projectMiss.id),
      env.DB.prepare("UPDATE webhooks SET filter_assignee_id = 'user_A' WHERE id = ?").bind(assigneeMatch.id),
    ]);
    const eventId = await insertEvent(org, "task.created", { id: "task_1", projectId: "proj_A", assigneeId: "user_A" });

    const { result, ids } = await runQueue("verk-events", [{ kind: "event", eventId }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);

    const rows = await env.DB.prepare("SELECT webhook_id, status, attempt_count FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .all<{ webhook_id: string; status: string; attempt_count: number }>();
    expect(rows.results.map((r) => r.webhook_id).sort()).toEqual(
      [exact.id, wildcard.id, disabled.id, projectMatch.id, assigneeMatch.id].sort(),
    );
    expect(rows.results.every((r) => r.status === "pending" && r.attempt_count === 0)).toBe(true);
    for (const skipped of [otherType, projectMiss]) {
      expect(rows.results.map((r) => r.webhook_id)).not.toContain(skipped.id);
    }
  });

  it("never duplicates a delivery for a repeated event message, and re-sends only unattempted ones", async () => {
    const org = await createOrg();
    const url = receiverEndpoint("dup").url;
    await createWebhook(org, { url, events: ["*"] });
    await createWebhook(org, { url, events: ["*"] });
    const eventId = await insertEvent(org, "member.added", { id: "user_x" });

    const first = await fanOutEvent(env as Env, eventId);
    expect(first).toHaveLength(2);
    // A crash after the insert: the message comes again (or twice at once).
    const [again, concurrent] = await Promise.all([fanOutEvent(env as Env, eventId), fanOutEvent(env as Env, eventId)]);
    expect(again!.sort()).toEqual([...first].sort());
    expect(concurrent!.sort()).toEqual([...first].sort());
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .first<{ n: number }>();
    expect(count!.n).toBe(2);

    // Once a delivery has been attempted, a repeated event message leaves it to its own message.
    await env.DB.prepare("UPDATE deliveries SET attempt_count = 1 WHERE id = ?").bind(first[0]).run();
    expect(await fanOutEvent(env as Env, eventId)).toEqual([first[1]]);
    const { result, ids } = await runQueue("verk-events", [{ kind: "event", eventId }]);
    expect(result.explicitAcks).toEqual(ids);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .first<{ n: number }>();
    expect(after!.n).toBe(2);
  });

  it("acks an event that no longer exists, and events older than the webhook reach nothing", async () => {
    const org = await createOrg();
    const { ids, result } = await runQueue("verk-events", [{ kind: "event", eventId: "evt_gone" }]);
    expect(result.explicitAcks).toEqual(ids);
    const old = await insertEvent(org, "member.added", { id: "user_y" }, { createdAt: "2020-01-01T00:00:00.000Z" });
    await createWebhook(org, { url: receiverEndpoint("late").url, events: ["*"] });
    expect(await fanOutEvent(env as Env, old)).toEqual([]);
  });

  it("matches filters by data, the project itself, and the previous value of a change", () => {
    const hook = (events: WebhookEvents, projectId: string | null, assigneeId: string | null) => ({
      events,
      filterProjectId: projectId,
      filterAssigneeId: assigneeId,
    });
    const event = (type: EventType, data: Record<string, unknown>, changes?: Changes) => ({
      type,
      data,
      changes: changes ?? null,
    });
    expect(webhookMatches(hook(["*"], "p1", null), event("project.updated", { id: "p1" }))).toBe(true);
    expect(webhookMatches(hook(["*"], "p1", null), event("project.updated", { id: "p2" }))).toBe(false);
    expect(webhookMatches(hook(["*"], "p1", null), event("comment.created", { id: "c", projectId: "p1" }))).toBe(true);
    expect(webhookMatches(hook(["*"], "p1", null), event("member.added", { id: "u" }))).toBe(false);
    expect(webhookMatches(hook(["*"], null, "u1"), event("comment.created", { id: "c", projectId: "p1" }))).toBe(false);
    // Moved out of the watched project / reassigned away from the watched member: still news for them.
    expect(
      webhookMatches(
        hook(["task.updated"], "p1", null),
        event("task.updated", { projectId: "p2" }, { projectId: { from: "p1", to: "p2" } }),
      ),
    ).toBe(true);
    expect(
      webhookMatches(
        hook(["task.assigned"], null, "u1"),
        event("task.assigned", { assigneeId: "u2" }, { assigneeId: { from: "u1", to: "u2" } }),
      ),
    ).toBe(true);
    expect(webhookMatches(hook(["task.created"], "p1", "u1"), event("task.created", { projectId: "p1" }))).toBe(false);
    expect(webhookMatches(hook(["task.created"], null, null), event("task.deleted", { projectId: "p1" }))).toBe(false);
  });
});
