import { ifMatchOf, notModified, setEtag } from "../../http/etag";
import { answerOnce } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import {
  addUser,
  findUser,
  listUsers,
  presentUser,
  removeUser,
  type UserResource,
  updateUser,
} from "../../identity/users";
import * as routes from "./users.routes";

export const usersRouter = createRouter()
  .openapi(routes.listUsers, async (c) => {
    const page = await listUsers(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getMe, async (c) => {
    const { orgId, userId } = c.get("principal");
    const user = await findUser(c.get("db"), orgId, userId);
    if (notModified(c, user.etag)) return c.body(null, 304);
    return c.json(presentUser(user), 200);
  })
  .openapi(routes.getUser, async (c) => {
    const user = await findUser(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    if (notModified(c, user.etag)) return c.body(null, 304);
    return c.json(presentUser(user), 200);
  })
  .openapi(routes.createUser, async (c) => {
    const answer = answerOnce(c, (user: UserResource) => ({
      status: 201,
      body: user,
      location: `/v1/users/${user.id}`,
    }));
    return answer.send(await addUser(writeContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateUser, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateUser(writeContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.deleteUser, async (c) => {
    await removeUser(writeContext(c), { id: c.req.valid("param").id, ifMatch: ifMatchOf(c) });
    return c.body(null, 204);
  });
