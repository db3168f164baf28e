// Drives Roost with the official ChatKitty JavaScript SDK, unchanged: token by multipart
// client credentials, then the application and user operations of the Platform API.
// Usage: ROOST_URL=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… node users.mjs
import assert from 'node:assert/strict';
import sdk from 'chatkitty-platform-sdk';

const base = process.env.ROOST_URL;
const kitty = new sdk.ChatKitty({
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
  basePath: base,
  authorizationBasePath: `${base}/oauth/token`,
});

const app = (await kitty.Application.retrieveAuthenticatedApplication()).data;
assert.equal(typeof app.id, 'number');
assert.equal(typeof app.key, 'string');

const settings = (await kitty.Application.updateAuthenticatedApplicationSettings({
  guestUsers: 'ENABLED', userCreatedChannels: 'DISABLED',
})).data;
assert.equal(settings.guestUsers, 'ENABLED');

const created = (await kitty.Users.createUser({
  name: 'jane@example.com', displayName: 'Jane', isGuest: false, properties: {team: 'red', drop: 1},
})).data;
assert.equal(created.name, 'jane@example.com');
assert.ok(Number.isSafeInteger(created.id), 'ids survive JavaScript numbers');

assert.equal((await kitty.Users.checkUserExists('jane@example.com')).status, 200);
await assert.rejects(kitty.Users.checkUserExists('nobody'), (e) => e.response.status === 404);

const fetched = (await kitty.Users.retrieveUser(created.id)).data;
assert.deepEqual(fetched, created);

// PATCH with the spec's application/json+merge-patch body.
const patched = (await kitty.Users.updateUser(created.id, {
  displayName: 'Jane D', properties: {drop: null, level: 3},
})).data;
assert.equal(patched.displayName, 'Jane D');
assert.deepEqual(patched.properties, {team: 'red', level: 3});

const page = (await kitty.Users.listUsers(0, 10, ['name,asc'], 'jane@example.com')).data;
assert.equal(page.page.totalElements, 1);
assert.equal(page._embedded.users[0].id, created.id);

await kitty.Users.setUserSecret(created.id, 'api-key', {secret: 'shh'});
assert.deepEqual((await kitty.Users.retrieveUserSecret(created.id, 'api-key')).data, {secret: 'shh'});
await kitty.Users.removeUserSecret(created.id, 'api-key');

const afterDelete = (await kitty.Users.deleteUser(created.id)).data;
assert.equal(afterDelete.id, app.id, 'DELETE answers with the application');
await assert.rejects(kitty.Users.retrieveUser(created.id), (e) => e.response.status === 404);

console.log('interop: chatkitty-platform-sdk OK');
