// Drives Roost's chat core with the official ChatKitty JavaScript SDK, unchanged: channels,
// members, messages (system and on behalf of users), threads, cursor paging, notifications.
// Usage: ROOST_URL=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… node chat.mjs
import assert from 'node:assert/strict';
import sdk from 'chatkitty-platform-sdk';

const base = process.env.ROOST_URL;
const kitty = new sdk.ChatKitty({
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
  basePath: base,
  authorizationBasePath: `${base}/oauth/token`,
});

const jane = (await kitty.Users.createUser({name: 'jane', displayName: 'Jane', isGuest: false})).data;
const bob = (await kitty.Users.createUser({name: 'bob', displayName: 'Bob', isGuest: false})).data;

const channel = (await kitty.Channels.createChannel({
  type: 'PRIVATE', name: 'team', displayName: 'Team', creator: {username: 'jane'},
})).data;
assert.equal(channel.type, 'PRIVATE');
await kitty.Channels.addChannelMember(channel.id, {username: 'bob'});
const members = (await kitty.Channels.listChannelMembers(channel.id)).data;
assert.deepEqual(members._embedded.users.map((u) => u.name).sort(), ['bob', 'jane']);

const direct = (await kitty.Channels.createChannel({type: 'DIRECT', members: [{id: jane.id}, {id: bob.id}]})).data;
const again = (await kitty.Channels.createChannel({type: 'DIRECT', members: [{username: 'bob'}, {username: 'jane'}]})).data;
assert.equal(again.id, direct.id, 'one direct channel per member set');

const system = (await kitty.Channels.sendChannelMessage(channel.id, {type: 'TEXT', body: 'Welcome!'})).data;
assert.equal(system.type, 'SYSTEM_TEXT');
const sent = [];
for (let i = 0; i < 5; i++) {
  sent.push((await kitty.Channels.sendChannelMessage(channel.id, {type: 'TEXT', body: `hello ${i} @bob`, user: {username: 'jane'}})).data);
}
assert.equal(sent[0].type, 'TEXT');
assert.equal(sent[0].mentions[0].user.name, 'bob');

// Page back through history with the cursor the links carry.
const first = (await kitty.Channels.listChannelMessages(channel.id, 2)).data;
assert.deepEqual(first._embedded.messages.map((m) => m.id), [sent[4].id, sent[3].id]);
const next = new URL(first._links.next.href);
const second = (await kitty.Channels.listChannelMessages(channel.id, 2,
    Number(next.searchParams.get('start')), Number(next.searchParams.get('next')), 'NEXT')).data;
assert.deepEqual(second._embedded.messages.map((m) => m.id), [sent[2].id, sent[1].id]);

// The first reply goes through Roost's /replies shortcut (not in the SDK); its thread link
// names the MESSAGE thread, which the SDK's thread operations then use.
const tokenResponse = await fetch(`${base}/oauth/token`, {
  method: 'POST',
  headers: {
    Authorization: 'Basic ' + Buffer.from(`${process.env.CLIENT_ID}:${process.env.CLIENT_SECRET}`).toString('base64'),
    'Content-Type': 'application/x-www-form-urlencoded',
  },
  body: 'grant_type=client_credentials',
});
const {access_token: accessToken} = await tokenResponse.json();
const firstReply = await (await fetch(`${base}/v1/messages/${sent[4].id}/replies`, {
  method: 'POST',
  headers: {Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json'},
  body: JSON.stringify({type: 'TEXT', body: 'first reply', user: {username: 'bob'}}),
})).json();
assert.equal(firstReply.nestedLevel, 1);
const threadId = Number(firstReply._links.thread.href.split('/').pop());
const threadResource = (await kitty.Threads.retrieveThread(threadId)).data;
assert.equal(threadResource.type, 'MESSAGE');
const reply = (await kitty.Threads.sendThreadMessage(threadId, {type: 'TEXT', body: 'on it', user: {username: 'jane'}})).data;
assert.equal(reply.nestedLevel, 1);
const replies = (await kitty.Threads.listThreadMessages(threadId)).data;
assert.deepEqual(replies._embedded.messages.map((m) => m.id), [reply.id, firstReply.id]);

const parent = (await kitty.Messages.retrieveMessage(sent[4].id)).data;
assert.equal(parent.repliesCount, 2);

const patched = (await kitty.Messages.updateMessage(sent[0].id, {body: 'edited'})).data;
assert.equal(patched.body, 'edited');
assert.ok(patched.lastEditedTime);

const thread = (await kitty.Messages.deleteMessage(sent[1].id)).data;
assert.equal(thread.type, 'MAIN');

await kitty.Channels.sendChannelKeystrokes(channel.id, {keys: 'typing…', user: {username: 'jane'}});
const event = (await kitty.Channels.sendChannelEvent(channel.id, {type: 'poll', properties: {question: 'lunch?'}})).data;
assert.equal(event.type, 'poll');

const app = (await kitty.Channels.deleteChannel(direct.id)).data;
assert.equal(typeof app.key, 'string');
console.log('interop: chat OK');
