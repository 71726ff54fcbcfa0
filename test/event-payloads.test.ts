import { describe, expect, it } from "vitest";
import type { Comment, Event, Page, Task } from "./api-types";
import { eventsFor, makeComment, makeProject, makeTask } from "./fixtures";
import { call, createOrg } from "./harness";
import { createWebhook, payloadOf, receiverEndpoint, waitForRequests } from "./webhook-helpers";

// Receivers written from the product's docs read `taskId`, `creatorId`, `projectName`,
// `assigneeName` on task events and the author's name on comment events.

describe("task event payloads", () => {
  it("carry taskId, creatorId, projectName and assigneeName on every task event, after an assignee change too", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { name: "Launch" });
    const task = await makeTask(org, project.id, { assigneeId: org.member.id, status: "done" });
    const reassigned = await call<Task>("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { assigneeId: org.owner.id },
    });
    expect(reassigned.status).toBe(200);
    const unassigned = await call<Task>("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { assigneeId: null, title: "Unassigned" },
    });
    expect(unassigned.status).toBe(200);
    expect((await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write })).status).toBe(200);

    // One write's events share their time; within it, by type.
    const events = (await eventsFor(org, task.id)).sort(
      (x, y) => x.createdAt.localeCompare(y.createdAt) || x.type.localeCompare(y.type),
    );
    const summary = events.map((e) => [e.type, e.data.assigneeId, e.data.assigneeName]);
    expect(summary).toEqual([
      ["task.assigned", org.member.id, org.member.name],
      ["task.completed", org.member.id, org.member.name],
      ["task.created", org.member.id, org.member.name],
      ["task.assigned", org.owner.id, org.owner.name],
      ["task.updated", org.owner.id, org.owner.name],
      ["task.assigned", null, null],
      ["task.updated", null, null],
      ["task.deleted", null, null],
    ]);
    for (const event of events) {
      expect(event.data, event.type).toMatchObject({
        id: task.id,
        taskId: task.id,
        createdBy: org.owner.id,
        creatorId: org.owner.id,
        projectId: project.id,
        projectName: "Launch",
      });
    }
    // Everything the task resource has stays, as it was at each change.
    expect(events.at(-1)?.data).toEqual({
      ...unassigned.body,
      taskId: task.id,
      creatorId: org.owner.id,
      projectName: "Launch",
      assigneeName: null,
    });
  });

  it("name the project the task moved to", async () => {
    const org = await createOrg();
    const from = await makeProject(org, { name: "Before" });
    const to = await makeProject(org, { name: "After" });
    const task = await makeTask(org, from.id);
    await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: to.id } });
    const events = await eventsFor(org, task.id);
    expect(events.map((e) => [e.type, e.data.projectName])).toEqual([
      ["task.created", "Before"],
      ["task.updated", "After"],
    ]);
  });

  it("reach a webhook receiver with the same fields", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("payload-fields");
    await createWebhook(org, { url: endpoint.url, events: ["task.created", "comment.created"] });
    const project = await makeProject(org, { name: "Support" });
    const task = await makeTask(org, project.id, { assigneeId: org.member.id });
    const comment = await makeComment(org, task.id, { content: "On it" }, org.member.key);

    const received = (await waitForRequests(endpoint.name, 2)).map(payloadOf);
    const taskPayload = received.find((p) => p.event === "task.created");
    expect(taskPayload?.data).toEqual({
      ...task,
      taskId: task.id,
      creatorId: org.owner.id,
      projectName: "Support",
      assigneeName: org.member.name,
    });
    const commentPayload = received.find((p) => p.event === "comment.created");
    expect(commentPayload?.data).toEqual({ ...comment, taskId: task.id, authorName: org.member.name });
  });
});

describe("comment event payloads", () => {
  it("carry taskId and authorName on created, updated and deleted", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const comment = await makeComment(org, task.id, {}, org.member.key);
    const edited = await call<Comment>("PATCH", `/v1/comments/${comment.id}`, {
      key: org.member.key,
      body: { content: "Edited" },
    });
    expect(edited.status).toBe(200);
    expect((await call("DELETE", `/v1/comments/${comment.id}`, { key: org.keys.admin })).status).toBe(200);
    const events = await eventsFor(org, comment.id);
    expect(events.map((e) => [e.type, e.data.taskId, e.data.authorName])).toEqual([
      ["comment.created", task.id, org.member.name],
      ["comment.updated", task.id, org.member.name],
      ["comment.deleted", task.id, org.member.name],
    ]);
    expect(events[1]?.data).toEqual({ ...edited.body, authorName: org.member.name });
  });

  it("deleting a task writes comment.deleted for each of its comments before task.deleted", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const first = await makeComment(org, task.id, { content: "one" });
    const second = await makeComment(org, task.id, { content: "two" }, org.member.key);
    expect((await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write })).status).toBe(200);
    const deleted = await call<Page<Event>>("GET", "/v1/events?type=comment.deleted", { key: org.keys.read });
    expect(
      deleted.body.data.map((e) => e.data).sort((a, b) => String(a.content).localeCompare(String(b.content))),
    ).toEqual([
      { ...first, authorName: org.owner.name },
      { ...second, authorName: org.member.name },
    ]);
    for (const event of deleted.body.data) {
      expect(event.id).toMatch(/^evt_[0-9A-Za-z]{20}$/);
      expect(event.resourceId).toBe(event.data.id);
      expect(event.actor.userId).toBe(org.owner.id);
    }
  });
});
