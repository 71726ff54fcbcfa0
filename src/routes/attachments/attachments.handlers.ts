import type { MiddlewareHandler } from "hono";
import {
  deleteAttachment,
  getAttachment,
  listAttachments,
  readAttachmentContent,
  uploadAttachment,
} from "../../attachments/attachments";
import { contentDispositionFor } from "../../attachments/disposition";
import { AppError } from "../../core/errors";
import { etagListMatches } from "../../core/versions";
import type { AppEnv } from "../../http/context";
import { IDEMPOTENCY_HEADER } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import { answerDeleted } from "../common";
import * as routes from "./attachments.routes";

const UPLOAD_PATH = /^\/v1\/tasks\/[^/]+\/attachments\/?$/;

/** Runs `middleware` on every request but an attachment upload, whose body streams to R2 unread. */
export function unlessUpload(middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => (c.req.method === "POST" && UPLOAD_PATH.test(c.req.path) ? next() : middleware(c, next));
}

/** Mounted at /v1: `/tasks/{taskId}/attachments` and `/attachments/{id}`. */
export const attachmentsRouter = createRouter()
  .openapi(routes.listAttachments, async (c) => {
    const { taskId } = c.req.valid("param");
    const page = await listAttachments(c.get("db"), c.get("principal").orgId, taskId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.uploadAttachment, async (c) => {
    // The body streams to R2 unread, so no fingerprint can tell a repeat from another
    // file: a key the client counts on to dedupe is refused rather than ignored.
    if (c.req.header(IDEMPOTENCY_HEADER) !== undefined) {
      throw new AppError(
        "VALIDATION_ERROR",
        `${IDEMPOTENCY_HEADER} is not accepted on uploads: uploads are not idempotent (send the request without it, once)`,
        { field: IDEMPOTENCY_HEADER },
      );
    }
    const { taskId } = c.req.valid("param");
    const declared = c.req.header("Content-Length");
    const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
    const attachment = await uploadAttachment(
      { ...writeContext(c), files: c.env.FILES, plan: c.get("principal").plan },
      {
        taskId,
        body: c.req.raw.body,
        length,
        contentType: c.req.header("Content-Type"),
        filename: c.req.valid("query").filename,
        contentDisposition: c.req.header("Content-Disposition"),
      },
    );
    c.header("Location", `/v1/attachments/${attachment.id}`);
    return c.json(attachment, 201);
  })
  .openapi(routes.getAttachment, async (c) => {
    return c.json(await getAttachment(c.get("db"), c.get("principal").orgId, c.req.valid("param").id), 200);
  })
  .openapi(routes.downloadAttachment, async (c) => {
    const ifNoneMatch = c.req.header("If-None-Match");
    const { attachment, body, size } = await readAttachmentContent(
      c.get("db"),
      c.env.FILES,
      c.get("principal").orgId,
      c.req.valid("param").id,
      (etag) => ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag),
    );
    c.header("ETag", `"${attachment.sha256}"`);
    c.header("Cache-Control", "private, no-cache");
    if (!body) return c.body(null, 304);
    return c.body(body, 200, {
      "Content-Type": attachment.contentType,
      "Content-Length": String(size),
      "Content-Disposition": contentDispositionFor(attachment.name),
      "X-Content-Type-Options": "nosniff",
    });
  })
  .openapi(routes.deleteAttachment, async (c) => {
    const { id } = c.req.valid("param");
    await deleteAttachment(writeContext(c), { id });
    return answerDeleted(c, id);
  });
