#!/usr/bin/env bash
# The walk-through of docs/api-guide.md as one script: every call the guide shows, in its order,
# against a running Roost. Each step prints a heading and the interesting part of the answer; the
# script stops with a non-zero status at the first answer whose status is not the one the guide
# documents, or whose body lacks what the guide says it holds.
#
#   docs/walkthrough.sh BASE_URL CLIENT_ID CLIENT_SECRET
#   docs/walkthrough.sh http://127.0.0.1:8080 12e0a712-… rcs_…
#
# It needs only bash, curl and jq. Every user it uses is created first, with a suffix unique to
# the run (jane-1764931200-4242), so it can run again against the same server. Run it against a
# test server: like the guide, it ends by deleting its channel, its users and every message of
# the application (DELETE /v1/messages). CI runs it on a fresh server on SQLite and on PostgreSQL
# (.ci/walkthrough.sh).
#
# Request bodies are jq programs in single quotes: their $jane, $bob… are jq's, not the shell's.
# shellcheck disable=SC2016
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BASE_URL CLIENT_ID CLIENT_SECRET" >&2
  exit 2
fi
ROOST="${1%/}" CLIENT_ID="$2" CLIENT_SECRET="$3"
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "$0 needs $tool" >&2; exit 2; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# shown CURL_ARGS…: the arguments as one line, secrets and tokens hidden.
shown() {
  local arg hide=false out=()
  for arg in "$@"; do
    if $hide; then arg="${arg%%:*}:…"; hide=false; fi
    case "$arg" in
      -u) hide=true ;;
      "Authorization: Bearer "*) arg="Authorization: Bearer …" ;;
      password=* | token=*) arg="${arg%%=*}=…" ;;
    esac
    out+=("$arg")
  done
  echo "${out[*]}"
}
# request STATUS CURL_ARGS…: one request; prints the body; fails unless the answer has STATUS.
# The answer's headers are left in $TMP/headers.
request() {
  local want="$1" got
  shift
  got="$(curl -sS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@")" || fail "curl $(shown "$@") did not complete"
  if [ "$got" != "$want" ]; then
    printf 'FAILED: curl %s\n  answered %s, expected %s:\n' "$(shown "$@")" "$got" "$want" >&2
    cat "$TMP/body" >&2
    echo >&2
    exit 1
  fi
  cat "$TMP/body"
}
# call STATUS CURL_ARGS…: a request with the bearer token.
call() {
  local want="$1"
  shift
  request "$want" -H "Authorization: Bearer $TOKEN" "$@"
}
# check JQ_CONDITION JSON WHAT: fails, showing the JSON, unless the condition holds.
check() {
  jq -e "$1" <<<"$2" >/dev/null || { printf 'FAILED: %s\n%s\n' "$3" "$2" >&2; exit 1; }
}
# header NAME: the value of a header of the last answer.
header() {
  tr -d '\r' <"$TMP/headers" | awk -v name="$(tr '[:upper:]' '[:lower:]' <<<"$1"):" 'tolower($1) == name { sub(/^[^:]*: */, ""); print; exit }'
}
# json JQ_PROGRAM: a request body, built by jq, with the run's user names bound to $jane, $bob….
json() {
  jq -nc --arg jane "$jane" --arg bob "$bob" --arg carol "$carol" --arg dave "$dave" \
    --arg team "$team" "$1"
}

RUN="$(date +%s)-$$"
jane="jane-$RUN" bob="bob-$RUN" carol="carol-$RUN" dave="dave-$RUN" team="team-$RUN"
J='Content-Type: application/json'
echo "Roost at $ROOST; this run's names end in -$RUN"

# ---------------------------------------------------------------------------------------- Tokens
step "Tokens: client credentials with HTTP Basic"
R="$(request 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$ROOST/oauth/token")"
TOKEN="$(jq -er .access_token <<<"$R")"
jq -c '{token_type, expires_in, scope}' <<<"$R"
[ "$(header Cache-Control)" = no-store ] || fail "the token response has no Cache-Control: no-store"

step "Tokens: ChatKitty's documented form (multipart, redundant username/password)"
R="$(request 200 -u "$CLIENT_ID:$CLIENT_SECRET" -F grant_type=client_credentials \
  -F "username=$CLIENT_ID" -F "password=$CLIENT_SECRET" "$ROOST/oauth/token")"
SECOND="$(jq -er .access_token <<<"$R")"
jq -c '{token_type, expires_in}' <<<"$R"

step "Tokens: a wrong secret is invalid_client (401)"
R="$(request 401 -u "$CLIENT_ID:wrong" -d grant_type=client_credentials "$ROOST/oauth/token")"
jq -c . <<<"$R"
check '.error == "invalid_client"' "$R" "a wrong secret is not invalid_client"
header WWW-Authenticate
[ "$(header WWW-Authenticate)" = 'Basic realm="roost"' ] || fail "invalid_client has no Basic challenge"

step "Tokens: introspection, then revocation of the second token"
R="$(request 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d "token=$SECOND" "$ROOST/oauth/introspect")"
jq -c '{active, scope, token_type}' <<<"$R"
check '.active == true' "$R" "a fresh token is not active"
request 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d "token=$SECOND" "$ROOST/oauth/revoke" >/dev/null
R="$(request 200 -u "$CLIENT_ID:$CLIENT_SECRET" -d "token=$SECOND" "$ROOST/oauth/introspect")"
jq -c . <<<"$R"
check '.active == false' "$R" "a revoked token is still active"

step "Tokens: no token is 401 unauthorized, a revoked one 401 invalid_token"
R="$(request 401 "$ROOST/v1/application")"
jq -c '{error}' <<<"$R"
check '.error == "unauthorized"' "$R" "a request without a token is not 'unauthorized'"
header WWW-Authenticate
[ "$(header WWW-Authenticate)" = 'Bearer realm="roost"' ] || fail "unauthorized has no Bearer challenge"
R="$(request 401 -H "Authorization: Bearer $SECOND" "$ROOST/v1/application")"
jq -c '{error}' <<<"$R"
check '.error == "invalid_token"' "$R" "a revoked token is not 'invalid_token'"
header WWW-Authenticate
case "$(header WWW-Authenticate)" in *'error="invalid_token"'*) ;; *) fail "invalid_token is not in the challenge" ;; esac

# ----------------------------------------------------------------------------------- Conventions
step "Conventions: HAL+JSON, or plain JSON on request; headers; ETag and 304"
call 200 "$ROOST/v1/application" >/dev/null
echo "Content-Type: $(header Content-Type)"
[ "$(header Content-Type)" = 'application/hal+json;charset=UTF-8' ] || fail "the default answer is not HAL+JSON"
for name in x-api-version x-response-token x-content-type-options x-frame-options; do
  [ -n "$(header "$name")" ] || fail "the answer has no $name header"
  echo "$name: $(header "$name")"
done
call 200 -H 'Accept: application/json' "$ROOST/v1/application" >/dev/null
echo "Content-Type: $(header Content-Type)"
case "$(header Content-Type)" in application/json*) ;; *) fail "Accept: application/json did not give plain JSON" ;; esac
ETAG="$(header ETag)"
[ -n "$ETAG" ] || fail "GET /v1/application has no ETag"
call 304 -H "If-None-Match: $ETAG" "$ROOST/v1/application" >/dev/null
echo "ETag $ETAG sent back in If-None-Match: 304 Not Modified"

step "Conventions: errors"
call 404 "$ROOST/v1/users/1" | jq -c '{error, explanation}'
call 404 "$ROOST/v1/no-such-path" | jq -c '{error, explanation}'
call 405 -X PUT "$ROOST/v1/users" | jq -c '{error, message}'
call 400 "$ROOST/v1/users?size=101" | jq -c '{error, explanation}'

# ------------------------------------------------------------------------------- The application
step "The application"
R="$(call 200 "$ROOST/v1")"
jq -c '._links | map_values(.href)' <<<"$R"
R="$(call 200 "$ROOST/v1/application")"
APP="$(jq -e .id <<<"$R")"
jq -c '{id, name, links: (._links | keys)}' <<<"$R"

step "The application: settings"
call 200 "$ROOST/v1/application/settings" | jq -c 'del(._links)'
R="$(call 200 -X PUT -H "$J" -d '{"guestUsers":"ENABLED","userCreatedChannels":"DISABLED"}' \
  "$ROOST/v1/application/settings")"
jq -c 'del(._links)' <<<"$R"
check '.guestUsers == "ENABLED" and .userCreatedChannels == "DISABLED"' "$R" "the settings were not stored"

step "The application: legacy paths"
call 200 "$ROOST/v1/applications/me" | jq -c '{id}'
call 200 "$ROOST/v1/applications/$APP" | jq -c '{id}'
call 200 "$ROOST/v1/applications/$APP/users?size=1" | jq -c '{page}'
call 404 "$ROOST/v1/applications/1" | jq -c '{error}'

# ----------------------------------------------------------------------------------------- Users
step "Users: create jane, bob, carol and dave"
R="$(call 200 -H "$J" \
  -d "$(json '{name: $jane, displayName: "Jane", isGuest: false, properties: {team: "red"}}')" "$ROOST/v1/users")"
JANE="$(jq -e .id <<<"$R")"
jq -c '{id, name, displayName, isGuest, presence, properties}' <<<"$R"
BOB="$(call 200 -H "$J" -d "$(json '{name: $bob, displayName: "Bob"}')" "$ROOST/v1/users" | jq -e .id)"
CAROL="$(call 200 -H "$J" -d "$(json '{name: $carol, displayName: "Carol"}')" "$ROOST/v1/users" | jq -e .id)"
DAVE="$(call 200 -H "$J" -d "$(json '{name: $dave, displayName: "Dave"}')" "$ROOST/v1/users" | jq -e .id)"
echo "jane $JANE, bob $BOB, carol $CAROL, dave $DAVE"

step "Users: a name is unique in the application"
R="$(call 400 -H "$J" -d "$(json '{name: $jane}')" "$ROOST/v1/users")"
jq -c '{error, errors}' <<<"$R"
check '.errors[0].code == "already_exists"' "$R" "a second jane is not already_exists"

step "Users: list, filter and sort"
call 200 "$ROOST/v1/users?page=0&size=10&sort=name,desc" | jq -c '{names: [._embedded.users[].name], page}'
R="$(call 200 "$ROOST/v1/users?name=$jane")"
jq -c '[._embedded.users[].name]' <<<"$R"
check "._embedded.users | length == 1 and .[0].id == $JANE" "$R" "the name filter did not find jane"
R="$(call 200 -G --data-urlencode 'properties={"team":"red"}' "$ROOST/v1/users")"
jq -c '[._embedded.users[].name]' <<<"$R"
check "any(._embedded.users[]; .id == $JANE)" "$R" "the properties filter did not find jane"

step "Users: does a name exist? (HEAD, 200 or 404)"
call 200 -I "$ROOST/v1/users?name=$jane" >/dev/null && echo "$jane: 200"
call 404 -I "$ROOST/v1/users?name=nobody-$RUN" >/dev/null && echo "nobody-$RUN: 404"

step "Users: read and merge-patch"
call 200 "$ROOST/v1/users/$JANE" | jq -c '{id, name, displayName}'
R="$(call 200 -X PATCH -H 'Content-Type: application/merge-patch+json' \
  -d '{"displayName":"Jane D","presence":{"status":"AVAILABLE"},"properties":{"team":null,"level":3}}' \
  "$ROOST/v1/users/$JANE")"
jq -c '{displayName, presence, properties}' <<<"$R"
check '.displayName == "Jane D" and .presence.status == "AVAILABLE" and .properties == {"level": 3}' \
  "$R" "the merge patch was not applied as the guide says"
R="$(call 400 -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"name":"someone-else"}' \
  "$ROOST/v1/users/$JANE")"
jq -c '{error, explanation}' <<<"$R"

step "Users: secrets"
call 200 -X PUT -H "$J" -d '{"secret":{"apiKey":"abc"}}' "$ROOST/v1/users/$JANE/secrets/integration" >/dev/null
R="$(call 200 "$ROOST/v1/users/$JANE/secrets/integration")"
jq -c . <<<"$R"
check '.secret == {"apiKey": "abc"}' "$R" "the secret did not come back"
call 200 -X DELETE "$ROOST/v1/users/$JANE/secrets/integration" >/dev/null
call 404 "$ROOST/v1/users/$JANE/secrets/integration" >/dev/null && echo "deleted: 404"

step "Users: display picture (no token needed)"
PICTURE="$(call 200 "$ROOST/v1/users/$JANE" | jq -er .displayPictureUrl)"
request 200 "$PICTURE" >/dev/null
echo "$PICTURE: $(header Content-Type)"

# ---------------------------------------------------------------------------- Chat: a walk-through
step "Channels: a private channel created on Jane's behalf, with Bob as a member"
R="$(call 200 -H "$J" \
  -d "$(json '{type: "PRIVATE", name: $team, displayName: "Team", creator: {username: $jane}, members: [{username: $bob}]}')" \
  "$ROOST/v1/channels")"
CHANNEL="$(jq -e .id <<<"$R")"
jq -c '{id, type, name, displayName, creator: .creator.name}' <<<"$R"

step "Channels: a direct channel is one per member set"
DIRECT="$(call 200 -H "$J" -d "$(json '{type: "DIRECT", members: [{username: $jane}, {username: $bob}]}')" \
  "$ROOST/v1/channels" | jq -e .id)"
AGAIN="$(call 200 -H "$J" -d "$(json '{type: "DIRECT", members: [{username: $bob}, {username: $jane}]}')" \
  "$ROOST/v1/channels" | jq -e .id)"
echo "direct channel $DIRECT, created again in the other order: $AGAIN"
[ "$DIRECT" = "$AGAIN" ] || fail "a second DIRECT channel with the same members is a new channel"

step "Channels: read and list"
call 200 "$ROOST/v1/channels/$CHANNEL" | jq -c '{id, type, name}'
call 200 "$ROOST/v1/users/$BOB/channels" | jq -c '[._embedded.channels[] | {id, type, name}]'

step "Messages: Jane's, with a mention and a link"
R="$(call 200 -H "$J" -d "$(json '{type: "TEXT", body: "hi @\($bob), see https://roost.example/plan", user: {username: $jane}}')" \
  "$ROOST/v1/channels/$CHANNEL/messages")"
MESSAGE="$(jq -e .id <<<"$R")"
jq -c '{id, type, body, links, mentions: [.mentions[] | {type, tag, startPosition, endPosition}]}' <<<"$R"
check ".mentions[0].tag == \"@$bob\" and .links[0].source == \"https://roost.example/plan\"" "$R" \
  "the mention or the link was not found"

step "Messages: the application's own, and an external file from Bob"
R="$(call 200 -H "$J" -d '{"type":"TEXT","body":"Welcome to the team channel"}' "$ROOST/v1/channels/$CHANNEL/messages")"
jq -c '{id, type, body}' <<<"$R"
check '.type == "SYSTEM_TEXT"' "$R" "a message without a user is not SYSTEM_TEXT"
R="$(call 200 -H "$J" \
  -d "$(json '{type: "FILE", file: {url: "https://cdn.example/plan.pdf", name: "plan.pdf", contentType: "application/pdf", size: 48213}, user: {username: $bob}}')" \
  "$ROOST/v1/channels/$CHANNEL/messages")"
jq -c '{id, type, file}' <<<"$R"

step "Messages: a non-member may not post in a private channel (403)"
call 403 -H "$J" -d "$(json '{type: "TEXT", body: "let me in", user: {username: $carol}}')" \
  "$ROOST/v1/channels/$CHANNEL/messages" | jq -c '{error, explanation}'

step "Messages: a reply from Bob opens the message's thread"
R="$(call 200 -H "$J" -d "$(json '{type: "TEXT", body: "on it", user: {username: $bob}}')" \
  "$ROOST/v1/messages/$MESSAGE/replies")"
THREAD_URL="$(jq -er ._links.thread.href <<<"$R")"
jq -c '{id, body, nestedLevel, thread: ._links.thread.href}' <<<"$R"
call 200 "$ROOST/v1/messages/$MESSAGE/replies" | jq -c '[._embedded.messages[].body]'
R="$(call 200 "$THREAD_URL")"
THREAD="$(jq -e .id <<<"$R")"
jq -c '{id, type}' <<<"$R"
check '.type == "MESSAGE"' "$R" "the reply's thread is not a MESSAGE thread"
call 200 "$ROOST/v1/threads/$THREAD/messages" | jq -c '[._embedded.messages[].body]'
R="$(call 200 "$ROOST/v1/messages/$MESSAGE")"
jq -c '{id, repliesCount}' <<<"$R"
check '.repliesCount == 1' "$R" "the parent does not count its reply"

step "Messages: react, and take the reaction back"
R="$(call 200 -H "$J" -d "$(json '{emoji: "👍", user: {username: $bob}}')" "$ROOST/v1/messages/$MESSAGE/reactions")"
jq -c '[.reactions[] | {emoji: .emoji.character, count, users: [.users[].name]}]' <<<"$R"
check '.reactions[0].count == 1' "$R" "the reaction is not counted"
R="$(call 200 -X DELETE "$ROOST/v1/messages/$MESSAGE/reactions/%F0%9F%91%8D?user=$bob")"
jq -c '{reactions}' <<<"$R"

step "Messages: Bob marks Jane's message read"
call 200 -H "$J" -d "$(json '{user: {username: $bob}}')" "$ROOST/v1/messages/$MESSAGE/read-receipts" |
  jq -c '{user: .user.name, createdTime}'
call 200 "$ROOST/v1/messages/$MESSAGE/read-receipts" | jq -c '[._embedded.receipts[].user.name]'
call 200 "$ROOST/v1/users/$BOB/messages?unread=true" | jq -c '{unread: [._embedded.messages[] | {type, body}]}'
call 200 "$ROOST/v1/users/$JANE/messages" | jq -c '{sent: [._embedded.messages[].body]}'

step "Notifications: Bob's and Jane's"
R="$(call 200 "$ROOST/v1/users/$BOB/notifications")"
jq -c '[._embedded.notifications[] | {reason: .data.type, title}]' <<<"$R"
check 'any(._embedded.notifications[]; .data.type == "USER:MENTIONED:USER")' "$R" "bob was not notified of his mention"
R="$(call 200 "$ROOST/v1/users/$JANE/notifications")"
jq -c '[._embedded.notifications[] | {reason: .data.type, title}]' <<<"$R"
check 'any(._embedded.notifications[]; .data.type == "USER:REPLIED_TO:MESSAGE")' "$R" "jane was not notified of the reply"

step "Messages: page back through history"
R="$(call 200 "$ROOST/v1/channels/$CHANNEL/messages?size=2")"
jq -c '{messages: [._embedded.messages[].id], page}' <<<"$R"
NEXT="$(jq -er ._links.next.href <<<"$R")"
R="$(call 200 "$NEXT")"
jq -c '{messages: [._embedded.messages[].id], page, prev: (._links.prev != null)}' <<<"$R"
check "any(._embedded.messages[]; .id == $MESSAGE)" "$R" "the next page does not hold Jane's first message"
call 200 -G --data-urlencode "username=$jane" --data-urlencode 'query=plan' "$ROOST/v1/messages" |
  jq -c '[._embedded.messages[].body]'

step "Members, moderators and invites"
call 200 -H "$J" -d "$(json '{username: $carol}')" "$ROOST/v1/channels/$CHANNEL/members" | jq -c '{id, name}'
call 200 "$ROOST/v1/channels/$CHANNEL/members" | jq -c '[._embedded.users[].name]'
call 200 "$ROOST/v1/channels/$CHANNEL/memberships" | jq -c '[._embedded.memberships[] | {user: .user.name, moderator}]'
call 200 -H "$J" -d "$(json '{username: $bob}')" "$ROOST/v1/channels/$CHANNEL/moderators" | jq -c '{id, name}'
call 200 "$ROOST/v1/channels/$CHANNEL/moderators" | jq -c '[._embedded.users[].name]'
call 200 -H "$J" -d "$(json '{user: {username: $dave}}')" "$ROOST/v1/channels/$CHANNEL/invites" | jq -c '{invited: .user.name}'
call 200 "$ROOST/v1/channels/$CHANNEL/invites" | jq -c '[._embedded.invites[].user.name]'
call 200 -X DELETE "$ROOST/v1/channels/$CHANNEL/members/$CAROL" >/dev/null
R="$(call 200 "$ROOST/v1/channels/$CHANNEL/members")"
jq -c '[._embedded.users[].name]' <<<"$R"
check "all(._embedded.users[]; .id != $CAROL)" "$R" "carol is still a member"

step "Typing indicators and custom events (accepted, not delivered anywhere)"
call 200 -H "$J" -d "$(json '{keys: "hel", user: {username: $jane}}')" "$ROOST/v1/channels/$CHANNEL/keystrokes" |
  jq -c 'del(._links)'
call 200 -H "$J" -d "$(json '{keys: "on i", user: {username: $bob}}')" "$ROOST/v1/threads/$THREAD/keystrokes" |
  jq -c 'del(._links)'
call 200 -H "$J" -d '{"type":"poll","properties":{"question":"Lunch?"}}' "$ROOST/v1/channels/$CHANNEL/events" |
  jq -c 'del(._links)'
call 403 -H "$J" -d "$(json '{keys: "hel", user: {username: $carol}}')" "$ROOST/v1/channels/$CHANNEL/keystrokes" |
  jq -c '{error, explanation}'

step "Edit and delete"
R="$(call 200 -X PATCH -H 'Content-Type: application/json+merge-patch' \
  -d "$(json '{body: "hi @\($bob) (edited)"}')" "$ROOST/v1/messages/$MESSAGE")"
jq -c '{id, body}' <<<"$R"
check ".body == \"hi @$bob (edited)\"" "$R" "the edit was not applied"
call 200 -X DELETE "$ROOST/v1/messages/$MESSAGE" | jq -c '{thread: {id, type}}'
call 404 "$ROOST/v1/messages/$MESSAGE" >/dev/null && echo "message $MESSAGE: 404"
call 404 "$ROOST/v1/threads/$THREAD" >/dev/null && echo "its thread $THREAD: 404"
call 200 -X DELETE "$ROOST/v1/channels/$CHANNEL" | jq -c '{application: .id}'
call 404 "$ROOST/v1/channels/$CHANNEL" >/dev/null && echo "channel $CHANNEL: 404"
call 200 -X DELETE "$ROOST/v1/messages" | jq -c '{application: .id}'
R="$(call 200 "$ROOST/v1/messages")"
check '(._embedded.messages // []) | length == 0' "$R" "messages are left after DELETE /v1/messages"
echo "no message left"

step "Users: delete (answers with the application)"
for id in "$JANE" "$BOB" "$CAROL" "$DAVE"; do
  R="$(call 200 -X DELETE "$ROOST/v1/users/$id")"
  check ".id == $APP" "$R" "DELETE /v1/users/$id did not answer with the application"
done
call 404 "$ROOST/v1/users/$JANE" >/dev/null && echo "jane, bob, carol and dave deleted"

printf '\nwalk-through complete\n'
