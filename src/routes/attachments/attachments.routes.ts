import { createRoute, z } from "@hono/zod-openapi";
import { ATTACHMENT_SORT_FIELDS } from "../../attachments/attachments";
import { authErrors, ErrorSchema, idParams, jsonResponse, needs, notFoundError, pathId } from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { deletedResponses, IfNoneMatchHeaders, PreferHeaders } from "../common";
import { Timestamp } from "../schemas";

export const AttachmentSchema = z
  .object({
    id: z.string().openapi({ example: "file_4Hq8Zt2Lm9Xc3Vb7Nk1P" }),
    taskId: z.string(),
    projectId: z.string().openapi({ description: "The project of the attachment's task" }),
    name: z.string().openapi({ example: "mockup.png" }),
    size: z.number().int().openapi({ description: "Bytes" }),
    contentType: z.string().openapi({ example: "image/png" }),
    sha256: z.string().openapi({ description: "Hex SHA-256 of the bytes; the content's ETag" }),
    uploader: z
      .object({ userId: z.string().nullable(), apiKeyId: z.string().nullable() })
      .openapi({ description: "The member and the API key that uploaded it" }),
    createdAt: Timestamp,
  })
  .openapi("Attachment");

const tags = ["Attachments"];
const taskParams = z.object({ taskId: pathId("taskId") });

const payloadTooLarge = {
  413: {
    description:
      "The file exceeds the plan's attachment limit (free 10 MiB, pro 100 MiB, enterprise 500 MiB): refused before anything is stored. Cloudflare's own request body cap applies first, by the Cloudflare plan of the deployment (100 MB Free and Pro, 200 MB Business, 500 MB Enterprise by default): a larger body gets Cloudflare's 413 page, not this JSON error. Pro's full 100 MiB needs Business or above; enterprise's 500 MiB needs Enterprise with a raised cap.",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

export const listAttachments = createRoute({
  operationId: "listAttachments",
  method: "get",
  path: "/tasks/{taskId}/attachments",
  tags,
  summary: "List a task's attachments",
  ...needs("tasks:read"),
  request: { params: taskParams, query: listQuery(ATTACHMENT_SORT_FIELDS, "createdAt", {}) },
  responses: {
    200: jsonResponse(pageSchema(AttachmentSchema, "AttachmentPage"), "A page of attachments"),
    ...authErrors,
    ...notFoundError,
  },
});

export const uploadAttachment = createRoute({
  operationId: "uploadAttachment",
  method: "post",
  path: "/tasks/{taskId}/attachments",
  tags,
  summary: "Attach a file to a task (raw body or multipart/form-data), streamed to storage",
  description:
    "Either the file's bytes as the body, with its `Content-Type` and its name in `?filename=` or a `Content-Disposition: attachment; filename=…` header; or `multipart/form-data` whose first part with a filename is the file (its own Content-Type; other fields are ignored). Without Content-Length the body is streamed and counted. Uploads are not idempotent: the body streams to storage unread, so a request with an `Idempotency-Key` header is refused with 400 `VALIDATION_ERROR` (`field`: `Idempotency-Key`) and nothing is stored; send an upload once, without it.",
  ...needs("tasks:write"),
  request: {
    params: taskParams,
    query: z.strictObject({
      filename: z.string().max(1024).optional().openapi({
        description:
          "The file's name (1–255 characters, no `/`, `\\` or control characters); wins over Content-Disposition",
        example: "mockup.png",
      }),
    }),
    headers: z.object({
      "content-disposition": z.string().optional().openapi({
        description:
          "Raw bodies: `attachment; filename=\"…\"` or `filename*=UTF-8''…` (RFC 6266), when `?filename=` is absent",
      }),
    }),
    body: {
      required: true,
      content: {
        "application/octet-stream": {
          schema: { type: "string", format: "binary", description: "The bytes; any media type, stored as sent" },
        },
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: { file: { type: "string", format: "binary", description: "A part with a filename" } },
            required: ["file"],
          },
        },
      },
    },
  },
  responses: {
    201: jsonResponse(AttachmentSchema, "The stored attachment"),
    ...authErrors,
    ...notFoundError,
    ...payloadTooLarge,
  },
});

export const getAttachment = createRoute({
  operationId: "getAttachment",
  method: "get",
  path: "/attachments/{id}",
  tags,
  summary: "Get an attachment's metadata",
  ...needs("tasks:read"),
  request: { params: idParams() },
  responses: {
    200: jsonResponse(AttachmentSchema, "The attachment"),
    ...authErrors,
    ...notFoundError,
  },
});

export const downloadAttachment = createRoute({
  operationId: "downloadAttachment",
  method: "get",
  path: "/attachments/{id}/content",
  tags,
  summary: "Download an attachment's bytes",
  ...needs("tasks:read"),
  request: { params: idParams(), headers: IfNoneMatchHeaders },
  responses: {
    200: {
      description:
        "The bytes, streamed, with the stored Content-Type, Content-Length, `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`",
      headers: {
        ETag: { schema: { type: "string" as const }, description: "The quoted SHA-256 of the bytes" },
        "Content-Disposition": { schema: { type: "string" as const }, description: "`attachment; filename*=UTF-8''…`" },
        "X-Content-Type-Options": { schema: { type: "string" as const }, description: "`nosniff`" },
      },
      content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
    },
    304: {
      description: "Not modified: If-None-Match names the current ETag",
      headers: { ETag: { schema: { type: "string" as const }, description: "The quoted SHA-256 of the bytes" } },
    },
    ...authErrors,
    ...notFoundError,
  },
});

export const deleteAttachment = createRoute({
  operationId: "deleteAttachment",
  method: "delete",
  path: "/attachments/{id}",
  tags,
  summary: "Delete an attachment and its bytes",
  ...needs("tasks:write"),
  request: { params: idParams(), headers: PreferHeaders },
  responses: {
    ...deletedResponses("Deleted"),
    ...authErrors,
    ...notFoundError,
  },
});
