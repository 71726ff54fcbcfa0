import { createRouter } from "../../http/openapi";
import { writeContext } from "../../http/write-context";
import { addUser, findUser, listUsers, presentUser, removeUser, updateUser } from "../../identity/users";
import * as routes from "./users.routes";

export const usersRouter = createRouter()
  .openapi(routes.listUsers, async (c) => {
    return c.json(await listUsers(c.get("db"), c.get("principal").orgId, c.req.valid("query")), 200);
  })
  .openapi(routes.getMe, async (c) => {
    const { orgId, userId } = c.get("principal");
    return c.json(presentUser(await findUser(c.get("db"), orgId, userId)), 200);
  })
  .openapi(routes.getUser, async (c) => {
    const user = await findUser(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    return c.json(presentUser(user), 200);
  })
  .openapi(routes.createUser, async (c) => {
    const user = await addUser(writeContext(c), c.req.valid("json"));
    c.header("Location", `/v1/users/${user.id}`);
    return c.json(user, 201);
  })
  .openapi(routes.updateUser, async (c) => {
    return c.json(await updateUser(c.env, writeContext(c), c.req.valid("param").id, c.req.valid("json")), 200);
  })
  .openapi(routes.deleteUser, async (c) => {
    await removeUser(c.env, writeContext(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
