import { createRoute, z } from "@hono/zod-openapi";
import {
  authErrors,
  conflictError,
  idParams,
  jsonBody,
  jsonResponse,
  needs,
  notFoundError,
  preconditionError,
} from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { TASK_SORT_FIELDS } from "../../tasks/task-query";
import { TASK_PRIORITIES, TASK_STATUSES } from "../../tasks/tasks";
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
import { IsoInstant, IsoUpperBound } from "../dates";
import { Timestamp } from "../schemas";

export const TaskSchema = z
  .object({
    id: z.string().openapi({ example: "task_3kT9xQ2mLw8Zr7Bv1Nc4" }),
    title: z.string(),
    description: z.string().nullable(),
    status: z.enum(TASK_STATUSES),
    priority: z.enum(TASK_PRIORITIES),
    projectId: z.string(),
    assigneeId: z.string().nullable(),
    dueDate: Timestamp.nullable(),
    tags: z.array(z.string()),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    completedAt: Timestamp.nullable().openapi({ description: "Set when status becomes done, cleared when it leaves" }),
  })
  .openapi("Task");

const Title = z.string().trim().min(1, "Task title is required").max(500);
const Description = z.string().max(50_000);
export const MAX_TAGS = 20;
const Tags = z
  .array(z.string().trim().min(1).max(50))
  .max(MAX_TAGS)
  .transform((tags) => [...new Set(tags)])
  .openapi({ example: ["build-failure", "ci-cd"], description: `Up to ${MAX_TAGS} tags; duplicates are dropped` });

export const CreateTaskSchema = z
  .strictObject({
    title: Title,
    description: Description.nullable().optional(),
    status: z.enum(TASK_STATUSES).optional().openapi({ description: "Default todo" }),
    priority: z.enum(TASK_PRIORITIES).optional().openapi({ description: "Default medium" }),
    projectId: IdRef.openapi({ description: "A project of this organization that is not archived" }),
    assigneeId: IdRef.nullable().optional().openapi({ description: "A member of this organization" }),
    dueDate: IsoInstant.nullable().optional(),
    tags: Tags.optional(),
  })
  .openapi("CreateTask");

export const UpdateTaskSchema = z
  .strictObject({
    title: Title.optional(),
    description: Description.nullable().optional(),
    status: z.enum(TASK_STATUSES).optional(),
    priority: z.enum(TASK_PRIORITIES).optional(),
    projectId: IdRef.optional().openapi({ description: "Moves the task; the project must not be archived" }),
    assigneeId: IdRef.nullable().optional(),
    dueDate: IsoInstant.nullable().optional(),
    tags: Tags.optional().openapi({ description: "Replaces the whole list" }),
  })
  .openapi("UpdateTask");

export const TaskListQuerySchema = listQuery(TASK_SORT_FIELDS, "createdAt", {
  projectId: IdRef.optional(),
  status: z.enum(TASK_STATUSES).optional(),
  assigneeId: IdRef.optional(),
  priority: z.enum(TASK_PRIORITIES).optional(),
  tag: z.string().min(1).max(50).optional(),
  dueAfter: IsoInstant.optional().openapi({
    description: "Due at or after this instant (inclusive); a bare date (`2024-01-01`) means its midnight UTC",
  }),
  dueBefore: IsoUpperBound.optional().openapi({
    description:
      "Due strictly before this instant; a bare date (`2024-12-31`) includes that whole UTC day (before the start of the next day)",
  }),
  completedAfter: IsoInstant.optional().openapi({
    description: "Completed at or after this instant (inclusive); a bare date (`2024-01-01`) means its midnight UTC",
  }),
  completedBefore: IsoUpperBound.optional().openapi({
    description:
      "Completed strictly before this instant; a bare date (`2024-01-31`) includes that whole UTC day (before the start of the next day)",
  }),
});

const tags = ["Tasks"];

export const listTasks = createRoute({
  operationId: "listTasks",
  method: "get",
  path: "/",
  tags,
  summary: "List tasks, filtered and sorted",
  description:
    "Filters combine (AND). Sorting by priority is by rank (low < medium < high < urgent); by dueDate, tasks without a due date count as due last; ties are broken by createdAt, then id.",
  ...needs("tasks:read"),
  request: { query: TaskListQuerySchema },
  responses: { 200: jsonResponse(pageSchema(TaskSchema, "TaskPage"), "A page of tasks"), ...authErrors },
});

export const getTask = createRoute({
  operationId: "getTask",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a task",
  ...needs("tasks:read"),
  request: { params: idParams(), headers: IfNoneMatchHeaders },
  responses: {
    200: { ...jsonResponse(TaskSchema, "The task"), headers: etagHeader },
    ...notModifiedResponse,
    ...authErrors,
    ...notFoundError,
  },
});

export const createTask = createRoute({
  operationId: "createTask",
  method: "post",
  path: "/",
  tags,
  summary: "Create a task",
  ...needs("tasks:write"),
  request: { body: jsonBody(CreateTaskSchema), headers: IdempotencyHeaders },
  responses: {
    201: { ...jsonResponse(TaskSchema, "The new task"), headers: etagHeader },
    ...authErrors,
    ...conflictError,
  },
});

export const updateTask = createRoute({
  operationId: "updateTask",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a task",
  description: "Partial: absent fields are kept; null clears description, assigneeId and dueDate.",
  ...needs("tasks:write"),
  request: { params: idParams(), body: jsonBody(UpdateTaskSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(TaskSchema, "The task"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const deleteTask = createRoute({
  operationId: "deleteTask",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a task and its comments",
  ...needs("tasks:write"),
  request: { params: idParams(), headers: IfMatchHeaders.extend(PreferHeaders.shape) },
  responses: {
    ...deletedResponses("Deleted"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});
