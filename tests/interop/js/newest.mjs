// Drives Roost with the newest official ChatKitty client (npm `chatkitty` 2.106.x), unchanged: it
// calls paths without /v1, sends and reads snake_case (announcing itself with the vendor type).
// Users, settings, channels (DIRECT reuse), messages with snake fields, pages, keystrokes, and
// the three operations it adds, and imports as jobs. A user it creates is read back by the older
// client too.
// Usage: ROOST_URL=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… node newest.mjs
import assert from 'node:assert/strict';
import {ChatKitty} from 'chatkitty';
import older from 'chatkitty-platform-sdk';

const base = process.env.ROOST_URL;
const credentials = {clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET};
const kitty = new ChatKitty({...credentials, basePath: base, authorizationBasePath: `${base}/oauth/token`});
const camel = new older.ChatKitty({...credentials, basePath: base, authorizationBasePath: `${base}/oauth/token`});

// Users: snake_case both ways; a camelCase client reads the same user.
const ann = (await kitty.UsersApi.createUser({name: 'ann', display_name: 'Ann', is_guest: false, properties: {favorite_color: 'red'}})).data;
assert.equal(ann.display_name, 'Ann');
assert.deepEqual(ann.properties, {favorite_color: 'red'});
const annCamel = (await camel.Users.retrieveUser(ann.id)).data;
assert.equal(annCamel.displayName, 'Ann', 'the older client reads the same user in camelCase');
const ben = (await kitty.UsersApi.createUser({name: 'ben', display_name: 'Ben', is_guest: false})).data;
const renamed = (await kitty.UsersApi.updateUser(ann.id, {display_name: 'Ann B'})).data;
assert.equal(renamed.display_name, 'Ann B');
// (Other scripts may have run against the same application first: only ann and ben are looked at.)
const ours = (list) => list.map((u) => u.name).filter((name) => name === 'ann' || name === 'ben');
const users = (await kitty.UsersApi.listUsers(0, 100, ['display_name,desc'])).data;
assert.deepEqual(ours(users._embedded.users), ['ben', 'ann'], 'sorted by a snake_case key');

// Settings, snake_case.
const settings = (await kitty.ApplicationApi.updateApplicationSettings({guest_users: 'ENABLED', user_created_channels: 'DISABLED'})).data;
assert.equal(settings.guest_users, 'ENABLED');
assert.equal((await kitty.ApplicationApi.retrieveApplicationSettings()).data.user_created_channels, 'DISABLED');

// Channels: a private one with both, and one direct channel per member set.
const room = (await kitty.ChannelsApi.createChannel({type: 'PRIVATE', name: 'room', display_name: 'Room', members: [{username: 'ann'}, {username: 'ben'}]})).data;
assert.equal(room.display_name, 'Room');
const direct = (await kitty.ChannelsApi.createChannel({type: 'DIRECT', members: [{id: ann.id}, {id: ben.id}]})).data;
const again = (await kitty.ChannelsApi.createChannel({type: 'DIRECT', members: [{username: 'ben'}, {username: 'ann'}]})).data;
assert.equal(again.id, direct.id, 'one direct channel per member set');

// Messages with snake fields, pages, keystrokes.
for (let i = 0; i < 3; i++) {
  const sent = (await kitty.ChannelsApi.sendChannelMessage(room.id, {type: 'TEXT', body: `hi ${i}`, user: {username: 'ann'}, group_tag: 'g'})).data;
  assert.equal(sent.group_tag, 'g');
  assert.ok(sent.created_time, 'created_time in snake_case');
}
const page = (await kitty.ChannelsApi.listChannelMessages(room.id, 2)).data;
assert.equal(page._embedded.messages.length, 2);
assert.equal(page._embedded.messages[0].body, 'hi 2');
await kitty.ChannelsApi.sendChannelKeystrokes(room.id, {user: {username: 'ann'}, keys: 'typing'});

// The three operations the newest client adds, and listUsers?unread.
const unread = (await kitty.UsersApi.countUserUnreadMessages(ben.id)).data;
assert.equal(unread.count, 3);
const summaries = (await kitty.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({page: 0, size: 10})).data;
assert.ok(summaries._embedded.summaries.some((s) => s.user.name === 'ben' && s.count === 3 && s.channel.name === 'room'));
const withUnread = (await kitty.UsersApi.listUsers(0, 100, undefined, undefined, true)).data;
assert.deepEqual(ours(withUnread._embedded.users), ['ben']);
const reported = (await kitty.ChannelsApi.listChannelReportedMessages(room.id)).data;
assert.equal(reported.page.total_elements, 0);

// Imports as jobs: users from a Blob and from a string (a file part and a plain field), each
// job waited for, in snake_case; importing the same again adds nothing. Then a message
// analytics export, downloaded.
const ended = async (job) => {
  for (let i = 0; i < 400; i++) {
    const seen = (await kitty.JobsApi.retrieveJob(job.id)).data;
    if (seen.state === 'FINISHED' || seen.state === 'FAILED') return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${job.id} did not end`);
};
const records = (name) => JSON.stringify([{name, display_name: name.toUpperCase(), guest: false, properties: {}}]);
const fromBlob = (await kitty.ImportsApi.importUsers(new Blob([records('imported-blob')], {type: 'application/json'}))).data;
assert.equal(fromBlob.type, 'USER_IMPORT');
assert.equal(fromBlob.state, 'PENDING');
assert.ok(fromBlob.created_time, 'created_time in snake_case');
const blobJob = await ended(fromBlob);
assert.equal(blobJob.state, 'FINISHED', JSON.stringify(blobJob));
assert.ok(blobJob.ended_time);
const fromString = (await kitty.ImportsApi.importUsers(records('imported-string'))).data;
assert.equal((await ended(fromString)).state, 'FINISHED');
const reimported = await ended((await kitty.ImportsApi.importUsers(records('imported-string'))).data);
assert.equal(reimported.state, 'FINISHED');
const imported = (await kitty.UsersApi.listUsers(0, 100)).data._embedded.users.filter((u) => u.name.startsWith('imported-'));
assert.deepEqual(imported.map((u) => u.display_name).sort(), ['IMPORTED-BLOB', 'IMPORTED-STRING'], 'once each');
const exported = await ended((await kitty.AnalyticsApi.exportMessageAnalytics()).data);
assert.equal(exported.type, 'MESSAGE_ANALYTICS_EXPORT');
assert.equal(exported.state, 'FINISHED', JSON.stringify(exported));
const csv = await (await fetch(exported.file)).text();
assert.ok(csv.startsWith('id,type,channelId,channelName,userId,username,body,groupTag,parentId,createdTime'), csv);
assert.ok(csv.includes(',room,') && csv.includes(',hi 2,'), 'the messages sent above are in it');
const jobs = (await kitty.JobsApi.listJobs(0, 10)).data;
assert.ok(jobs._embedded.jobs.length >= 4);

console.log('interop: chatkitty 2.106 OK');
