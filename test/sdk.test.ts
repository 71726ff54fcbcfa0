import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import sharedVectors from "../clients/vectors/webhooks.json";
import { VerkClient, VerkError, verifyWebhook } from "../sdk/src/index";
import { signatureHeaders } from "../src/webhooks/signing";
import { createOrg } from "./harness";

// The TypeScript SDK (sdk/) inside workerd: it needs only fetch and WebCrypto, so it runs
// in a Worker as it does in Node and browsers; its own unit tests are in sdk/test (Node).

function sdkFor(apiKey: string, sent: string[] = []): VerkClient {
  return new VerkClient({
    apiKey,
    baseUrl: "https://verk.test",
    fetch: (url, init) => {
      sent.push(`${init.method} ${url.replace("https://verk.test", "")}`);
      return exports.default.fetch(new Request(url, init));
    },
  });
}

describe("SDK against the Worker", () => {
  it("creates, reads, updates, pages through and deletes tasks; refusals are VerkErrors", async () => {
    const org = await createOrg();
    const sent: string[] = [];
    const verk = sdkFor(org.keys.write, sent);
    const project = await verk.projects.create({ name: "SDK" });
    const created = [];
    for (const title of ["one", "two", "three"])
      created.push(await verk.tasks.create({ title, projectId: project.id }));
    await verk.tasks.update(created[0]!.id, { status: "done" });
    expect((await verk.tasks.get(created[0]!.id)).status).toBe("done");

    const todo: string[] = [];
    for await (const task of verk.tasks.listAll({ projectId: project.id, status: "todo", limit: 1, order: "asc" })) {
      todo.push(task.title);
    }
    expect(todo).toEqual(["two", "three"]);
    // The first page is an ordinary request; the second follows pagination.nextCursor, which is null after it.
    const pages = sent.filter((line) => line.startsWith("GET /v1/tasks?"));
    expect(pages).toHaveLength(2);
    expect(pages[0]).not.toContain("cursor=");
    expect(pages.slice(1).every((line) => /[?&]cursor=[^&]+/.test(line))).toBe(true);

    await verk.tasks.delete(created[1]!.id);
    const missing = await verk.tasks.get(created[1]!.id).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(VerkError);
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND", requestId: expect.stringMatching(/^req_/) });

    const invalid = await verk.tasks.create({ title: "", projectId: project.id }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: "VALIDATION_ERROR", field: "title" });
    const forbidden = await sdkFor(org.keys.read)
      .projects.create({ name: "no" })
      .catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ status: 403, code: "FORBIDDEN" });
  });
});

describe("SDK verifyWebhook against the server's signing code", () => {
  const body = JSON.stringify({ id: "evt_1", event: "task.created", data: { title: "Ship it ✓" } });
  const now = Math.floor(Date.now() / 1000);

  it("reproduces sdk/test's fixed vectors", async () => {
    const vectorBody =
      '{"id":"evt_vector0000000000001","event":"task.created","timestamp":"2026-01-01T00:00:00.000Z","webhookId":"wh_vector00000000000001","deliveryId":"del_vector0000000000001","data":{"id":"task_vector000000000001","title":"Ship it ✓"},"organization":{"id":"org_vector0000000000001","name":"Acme"},"actor":{"userId":"user_vector000000000001","apiKeyId":null}}';
    const headers = await signatureHeaders({
      id: "del_vector0000000000001",
      timestamp: 1767225600,
      body: vectorBody,
      secrets: ["my-own-secret-0123456789", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    });
    expect(headers).toEqual({
      "X-Verk-Signature": "sha256=3ea9b5ade957e7555f82549554612ac23ea3aee384e650f8aedc8a74460a9875",
      "webhook-id": "del_vector0000000000001",
      "webhook-timestamp": "1767225600",
      "webhook-signature":
        "v1,fYs37yn4p5sA30gymOgF1mPV7nYLeTglZte5/tFxtGE= v1,6v4mtVe96C7UoIYxMI2MSrvejWyi6I4ybkg1gZSQHVE=",
    });
  });

  it("clients/vectors/webhooks.json (run by the SDK and the Python and Go clients) holds what the server signs", async () => {
    const generated = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const own = "my-own-secret-0123456789";
    const signing = { id: "del_vector0000000000001", timestamp: 1767225600, body: sharedVectors.body };
    const byName = (name: string) => sharedVectors.cases.find((c) => c.name === name)?.headers;
    expect(byName("Standard Webhooks signature of a generated whsec_ secret")).toEqual(
      await signatureHeaders({ ...signing, secrets: [generated] }),
    );
    expect(byName("rotation: the new secret matches one of two v1 signatures")).toEqual(
      await signatureHeaders({ ...signing, secrets: [own, generated] }),
    );
  });

  it("verifies what the server signs, with a generated or an own secret, and either secret during a rotation", async () => {
    const generated = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const own = "my-own-secret-0123456789";
    const rotating = await signatureHeaders({ id: "del_1", timestamp: now, body, secrets: [own, generated] });
    for (const secret of [own, generated]) {
      expect((await verifyWebhook(body, new Headers(rotating), secret)).event).toBe("task.created");
    }
    const verkOnly = { "X-Verk-Signature": rotating["X-Verk-Signature"]! };
    expect((await verifyWebhook(body, verkOnly, own)).id).toBe("evt_1");
    await expect(verifyWebhook(body, verkOnly, generated)).rejects.toMatchObject({ code: "INVALID_SIGNATURE" });
    await expect(verifyWebhook(`${body} `, rotating, own)).rejects.toMatchObject({ code: "INVALID_SIGNATURE" });
  });
});
