import { createRoute, z } from "@hono/zod-openapi";
import { COMMENT_SORT_FIELDS } from "../../comments/comments";
import {
  authErrors,
  conflictError,
  idParams,
  jsonBody,
  jsonResponse,
  needs,
  notFoundError,
  pathId,
  preconditionError,
} from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import {
  deletedResponses,
  etagHeader,
  IdempotencyHeaders,
  IdRef,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  notModifiedResponse,
  PreferHeaders,
} from "../common";
import { Timestamp } from "../schemas";

export const CommentSchema = z
  .object({
    id: z.string().openapi({ example: "cmt_9Qw2Er4Ty6Ui8Op0As1D" }),
    taskId: z.string(),
    projectId: z.string().openapi({ description: "The project of the comment's task" }),
    content: z.string(),
    mentions: z.array(z.string()).openapi({ description: "Member ids" }),
    authorId: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Comment");

const Content = z.string().trim().min(1, "Comment content is required").max(20_000);
export const MAX_MENTIONS = 50;
const Mentions = z
  .array(IdRef)
  .max(MAX_MENTIONS)
  .transform((ids) => [...new Set(ids)])
  .openapi({ description: "Ids of members of this organization", example: ["user_123", "user_456"] });

export const CreateCommentSchema = z
  .strictObject({ content: Content, mentions: Mentions.optional() })
  .openapi("CreateComment");

export const UpdateCommentSchema = z
  .strictObject({ content: Content.optional(), mentions: Mentions.optional() })
  .openapi("UpdateComment");

const tags = ["Comments"];
const taskParams = z.object({ taskId: pathId("taskId") });

export const listComments = createRoute({
  operationId: "listComments",
  method: "get",
  path: "/tasks/{taskId}/comments",
  tags,
  summary: "List a task's comments",
  ...needs("comments:read"),
  request: { params: taskParams, query: listQuery(COMMENT_SORT_FIELDS, "createdAt", {}) },
  responses: {
    200: jsonResponse(pageSchema(CommentSchema, "CommentPage"), "A page of comments"),
    ...authErrors,
    ...notFoundError,
  },
});

export const createComment = createRoute({
  operationId: "createComment",
  method: "post",
  path: "/tasks/{taskId}/comments",
  tags,
  summary: "Comment on a task (the author is the API key's member)",
  ...needs("comments:write"),
  request: { params: taskParams, body: jsonBody(CreateCommentSchema), headers: IdempotencyHeaders },
  responses: {
    201: { ...jsonResponse(CommentSchema, "The new comment"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});

export const getComment = createRoute({
  operationId: "getComment",
  method: "get",
  path: "/comments/{id}",
  tags,
  summary: "Get a comment",
  ...needs("comments:read"),
  request: { params: idParams(), headers: IfNoneMatchHeaders },
  responses: {
    200: { ...jsonResponse(CommentSchema, "The comment"), headers: etagHeader },
    ...notModifiedResponse,
    ...authErrors,
    ...notFoundError,
  },
});

export const updateComment = createRoute({
  operationId: "updateComment",
  method: "patch",
  path: "/comments/{id}",
  tags,
  summary: "Edit a comment (its author, or an admin)",
  ...needs("comments:write"),
  request: { params: idParams(), body: jsonBody(UpdateCommentSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(CommentSchema, "The comment"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const deleteComment = createRoute({
  operationId: "deleteComment",
  method: "delete",
  path: "/comments/{id}",
  tags,
  summary: "Delete a comment (its author, or an admin)",
  ...needs("comments:write"),
  request: { params: idParams(), headers: IfMatchHeaders.extend(PreferHeaders.shape) },
  responses: {
    ...deletedResponses("Deleted"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});
