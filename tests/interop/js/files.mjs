// Files with the official ChatKitty JavaScript SDK (chatkitty-platform-sdk 2.4.0), unchanged: its
// upload calls (a FILE message and a display picture, which this client sends as external
// references), then the files seed's multipart uploads (what the SDK's generated FormData code
// sends) through fetch, with the bytes read back from Roost.
// Usage: ROOST_URL=http://127.0.0.1:8080 CLIENT_ID=… CLIENT_SECRET=… node files.mjs
import assert from 'node:assert/strict';
import sdk from 'chatkitty-platform-sdk';

const base = process.env.ROOST_URL;
const kitty = new sdk.ChatKitty({
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
  basePath: base,
  authorizationBasePath: `${base}/oauth/token`,
});

const ada = (await kitty.Users.createUser({name: 'ada', displayName: 'Ada', isGuest: false})).data;
const channel = (await kitty.Channels.createChannel({type: 'PUBLIC', name: 'files', creator: {username: 'ada'}})).data;

// The SDK's own calls, as generated.
const external = (await kitty.Channels.sendChannelMessage(channel.id, {
  type: 'FILE',
  file: {url: 'https://cdn.example.com/spec.pdf', name: 'spec.pdf', contentType: 'application/pdf', size: 1024},
  user: {username: 'ada'},
})).data;
assert.equal(external.type, 'FILE');
assert.equal(external.file.type, 'EXTERNAL');
assert.equal(external.file.url, 'https://cdn.example.com/spec.pdf');
const pictured = (await kitty.Users.updateUserDisplayPicture(ada.id, {
  url: 'https://cdn.example.com/ada.png', name: 'ada.png', contentType: 'image/png', size: 10,
})).data;
assert.equal(pictured.displayPictureUrl, 'https://cdn.example.com/ada.png');

// Multipart uploads, as the files seed describes them.
const tokenResponse = await fetch(`${base}/oauth/token`, {
  method: 'POST',
  headers: {
    Authorization: 'Basic ' + Buffer.from(`${process.env.CLIENT_ID}:${process.env.CLIENT_SECRET}`).toString('base64'),
    'Content-Type': 'application/x-www-form-urlencoded',
  },
  body: 'grant_type=client_credentials',
});
const {access_token: accessToken} = await tokenResponse.json();
const bytes = Buffer.alloc(300_000, 'roost ');
const form = new FormData();
form.append('file', new Blob([bytes], {type: 'text/plain'}), 'notes ü.txt');
form.append('groupTag', 'minutes');
form.append('user', JSON.stringify({username: 'ada'}));
form.append('properties', JSON.stringify({meeting: 42}));
const uploaded = await fetch(`${base}/v1/channels/${channel.id}/messages`, {
  method: 'POST', headers: {Authorization: `Bearer ${accessToken}`}, body: form,
});
const message = await uploaded.json();
assert.equal(uploaded.status, 200, JSON.stringify(message));
assert.equal(message.type, 'FILE');
assert.equal(message.file.type, 'HOSTED');
assert.equal(message.file.name, 'notes ü.txt');
assert.equal(message.file.size, bytes.length);
assert.equal(message.groupTag, 'minutes');
assert.equal(message.properties.meeting, 42);
// The SDK reads it back like any message.
const read = (await kitty.Messages.retrieveMessage(message.id)).data;
assert.equal(read.file.url, message.file.url);
const download = await fetch(message.file.url);
assert.equal(download.status, 200);
assert.ok(Buffer.from(await download.arrayBuffer()).equals(bytes), 'the bytes round-trip');

const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
const pictureForm = new FormData();
pictureForm.append('file', new Blob([png], {type: 'image/png'}), 'ada.png');
const picture = await fetch(`${base}/v1/users/${ada.id}/display-picture`, {
  method: 'POST', headers: {Authorization: `Bearer ${accessToken}`}, body: pictureForm,
});
const user = await picture.json();
assert.equal(picture.status, 200, JSON.stringify(user));
const fetched = (await kitty.Users.retrieveUser(ada.id)).data;
assert.equal(fetched.displayPictureUrl, user.displayPictureUrl);
const served = await fetch(user.displayPictureUrl);
assert.equal(served.headers.get('content-type'), 'image/png');
assert.ok(Buffer.from(await served.arrayBuffer()).equals(png));

// Deleting the message through the SDK removes its bytes.
await kitty.Messages.deleteMessage(message.id);
assert.equal((await fetch(message.file.url)).status, 404);
console.log('interop: files OK');
