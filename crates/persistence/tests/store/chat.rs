//! Channels, messages, threads, reactions, read marks and notifications on both backends.

use std::sync::Arc;

use proptest::prelude::*;
use roost_domain::model::channel::{self, ChannelFilter, ChannelType, NewChannel};
use roost_domain::model::cursor::{CursorRequest, KeyRange};
use roost_domain::model::message::{self, MessageFilter, MessageScope, NewContent, NewMessage};
use roost_domain::model::page::PageRequest;
use roost_domain::model::user::{NewUser, User, UserRef};
use roost_domain::ports::{ChannelStore, MessageStore, NotificationStore, UserStore};
use roost_domain::{now, ApplicationId, DomainError, FieldErrorCode, IdGenerator, MessageId, Properties, Service};
use roost_persistence::testing::TestDatabase;
use roost_persistence::DieselStore;

use super::{as_app, org, seed_application, service};

struct Fixture {
    store: DieselStore,
    /// The node's generator, shared with the store, as a server node does.
    ids: Arc<IdGenerator>,
    /// The use cases over the store.
    service: Service,
    app: ApplicationId,
}

impl Fixture {
    fn new(db: &TestDatabase) -> Self {
        let ids = Arc::new(IdGenerator::new(0).unwrap());
        let store = db.store_with_ids(Arc::clone(&ids));
        let (app, _) = seed_application(&store, &ids, Some(&org(&ids)));
        let service = service(&store, &ids);
        Self { store, ids, service, app: app.id }
    }

    fn user(&self, name: &str) -> User {
        let input = NewUser { name: Some(name.into()), ..NewUser::default() };
        self.service.create_user(&as_app(self.app), input).unwrap()
    }

    fn channel(&self, kind: ChannelType, name: Option<&str>, members: &[&User]) -> channel::Channel {
        let input = NewChannel {
            channel_type: kind,
            name: name.map(str::to_owned),
            display_name: None,
            creator: None,
            members: members.iter().map(|u| UserRef::Id(u.id)).collect(),
            properties: Properties::new(),
        };
        self.service.create_channel(&as_app(self.app), input).unwrap().value
    }

    fn say(&self, channel: &channel::Channel, from: Option<&User>, body: &str) -> message::Message {
        let input = NewMessage {
            content: NewContent::Text(body.into()),
            user: from.map(|u| UserRef::Name(u.name.clone())),
            group_tag: None,
            properties: Properties::new(),
        };
        self.service.send_channel_message(&as_app(self.app), channel.id, input).unwrap().value
    }
}

/// A channel to create, by members' references.
fn new_channel(kind: ChannelType, name: Option<&str>, members: Vec<UserRef>) -> NewChannel {
    NewChannel {
        channel_type: kind,
        name: name.map(str::to_owned),
        display_name: None,
        creator: None,
        members,
        properties: Properties::new(),
    }
}

/// The validation errors of a channel that cannot be created.
fn refused(f: &Fixture, input: NewChannel) -> Vec<roost_domain::FieldError> {
    match f.service.create_channel(&as_app(f.app), input).unwrap_err() {
        DomainError::Validation(errors) => errors,
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[test]
fn channels_get_a_uuid_name_unless_named_and_names_are_unique() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let a = f.user("a");
        let public = f.channel(ChannelType::Public, None, &[&a]);
        assert_eq!(public.name.as_deref().map(str::len), Some(36), "a UUID name by default");
        assert_eq!(public.display_name, public.name);
        f.channel(ChannelType::Public, Some("general"), &[]);
        let dup = new_channel(ChannelType::Private, Some("general"), vec![]);
        assert_eq!(refused(&f, dup)[0].code, FieldErrorCode::AlreadyExists, "{}", db.label);
    }
}

#[test]
fn one_direct_channel_per_member_set_of_two_or_more() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let (a, b) = (f.user("a"), f.user("b"));
        let direct = f.channel(ChannelType::Direct, None, &[&a, &b]);
        let again = f.channel(ChannelType::Direct, None, &[&b, &a]);
        assert_eq!(direct.id, again.id, "one direct channel per member set, whatever the order ({})", db.label);
        let lonely = new_channel(ChannelType::Direct, None, vec![UserRef::Id(a.id)]);
        assert!(f.service.create_channel(&as_app(f.app), lonely).is_err());
    }
}

#[test]
fn unknown_members_are_refused_by_position() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let unknown = new_channel(ChannelType::Public, None, vec![UserRef::Name("ghost".into())]);
        assert_eq!(refused(&f, unknown)[0].field, "members[0]", "{}", db.label);
    }
}

#[test]
fn moderators_are_members_and_direct_channels_take_no_new_members() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let (a, b, c) = (f.user("a"), f.user("b"), f.user("c"));
        let general = f.channel(ChannelType::Public, Some("general"), &[]);
        let direct = f.channel(ChannelType::Direct, None, &[&a, &b]);
        f.service.add_member(&as_app(f.app), general.id, &UserRef::Id(c.id)).unwrap();
        assert!(
            f.service.add_member(&as_app(f.app), direct.id, &UserRef::Id(c.id)).is_err(),
            "direct channels take no new members ({})",
            db.label
        );
        f.service.add_moderator(&as_app(f.app), general.id, &UserRef::Id(c.id)).unwrap();
        assert!(
            f.service.add_moderator(&as_app(f.app), general.id, &UserRef::Id(a.id)).is_err(),
            "moderators are members"
        );
        let page = PageRequest::parse(None, None, &[]).unwrap();
        let moderators = || {
            f.service
                .list_members(&as_app(f.app), general.id, channel::MemberFilter::Moderators, &page)
                .unwrap()
                .total_elements
        };
        assert_eq!(moderators(), 1);
        f.service.remove_moderator(&as_app(f.app), general.id, c.id).unwrap();
        assert_eq!(moderators(), 0);
    }
}

#[test]
fn joining_consumes_the_invite() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let a = f.user("a");
        let general = f.channel(ChannelType::Public, Some("general"), &[]);
        let page = PageRequest::parse(None, None, &[]).unwrap();
        let invite = f.service.invite(&as_app(f.app), general.id, &UserRef::Id(a.id)).unwrap();
        assert_eq!(invite.user.id, a.id, "{}", db.label);
        assert_eq!(f.service.list_invites(&as_app(f.app), general.id, &page).unwrap().total_elements, 1);
        f.service.add_member(&as_app(f.app), general.id, &UserRef::Id(a.id)).unwrap();
        assert_eq!(
            f.service.list_invites(&as_app(f.app), general.id, &page).unwrap().total_elements,
            0,
            "joining consumes the invite"
        );
    }
}

#[test]
fn channels_are_listed_by_user_type_and_member() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let (a, b) = (f.user("a"), f.user("b"));
        let public = f.channel(ChannelType::Public, None, &[&a]);
        let general = f.channel(ChannelType::Public, Some("general"), &[]);
        let direct = f.channel(ChannelType::Direct, None, &[&a, &b]);
        f.channel(ChannelType::Public, Some("elsewhere"), &[&b]);
        f.service.add_member(&as_app(f.app), general.id, &UserRef::Id(a.id)).unwrap();
        let every = PageRequest::parse(None, None, &[]).unwrap();
        let of_a = ChannelFilter { user_id: Some(a.id), ..ChannelFilter::default() };
        let mut names: Vec<i64> =
            f.store.list_channels(f.app, &of_a, &every).unwrap().items.iter().map(|c| c.id.0).collect();
        names.sort_unstable();
        let mut expected = vec![public.id.0, general.id.0, direct.id.0];
        expected.sort_unstable();
        assert_eq!(names, expected, "{}", db.label);
        let direct_only = ChannelFilter {
            channel_type: Some(ChannelType::Direct),
            member_ids: vec![b.id],
            ..ChannelFilter::default()
        };
        assert_eq!(f.store.list_channels(f.app, &direct_only, &every).unwrap().items.len(), 1);
    }
}

#[test]
fn a_channel_is_read_with_its_member_ids_in_one_go() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let (a, b, c) = (f.user("a"), f.user("b"), f.user("c"));
        let room = f.channel(ChannelType::Private, Some("room"), &[&c, &a]);
        let empty = f.channel(ChannelType::Public, Some("empty"), &[]);
        f.channel(ChannelType::Public, Some("elsewhere"), &[&b]);
        let (found, members) = f.store.find_channel_with_member_ids(f.app, room.id).unwrap().unwrap();
        assert_eq!(found.name.as_deref(), Some("room"), "{}", db.label);
        let mut expected = vec![a.id, c.id];
        expected.sort();
        assert_eq!(members, expected, "every member, by id, and no one else ({})", db.label);
        let (_, none) = f.store.find_channel_with_member_ids(f.app, empty.id).unwrap().unwrap();
        assert!(none.is_empty(), "{}", db.label);
        let other_app = ApplicationId(f.app.0 + 1);
        assert!(f.store.find_channel_with_member_ids(other_app, room.id).unwrap().is_none(), "{}", db.label);
        assert!(f.store.find_channel_with_member_ids(f.app, roost_domain::ChannelId(1)).unwrap().is_none());
    }
}

/// Jane and bob in a private channel, eve outside it.
struct Team {
    f: Fixture,
    jane: User,
    bob: User,
    eve: User,
    private: channel::Channel,
}

impl Team {
    fn new(db: &TestDatabase) -> Self {
        let f = Fixture::new(db);
        let (jane, bob, eve) = (f.user("jane"), f.user("bob"), f.user("eve"));
        let private = f.channel(ChannelType::Private, Some("team"), &[&jane, &bob]);
        Self { f, jane, bob, eve, private }
    }

    /// Jane's message mentioning bob, a link and the channel.
    fn hello(&self) -> message::Message {
        self.f.say(&self.private, Some(&self.jane), "hi @bob, see https://example.com/x. and #team")
    }

    /// `who` replies to `parent`.
    fn reply(&self, parent: &message::Message, who: &User) -> message::Message {
        let input = NewMessage {
            content: NewContent::Text("thanks".into()),
            user: Some(UserRef::Id(who.id)),
            group_tag: None,
            properties: Properties::new(),
        };
        let f = &self.f;
        f.service.reply_to_message(&as_app(f.app), parent.id, input).unwrap().value
    }

    fn notifications(&self, who: &User) -> Vec<roost_domain::model::notification::Notification> {
        self.f.store.list_notifications(self.f.app, who.id, &CursorRequest::newest(10)).unwrap().items
    }

    fn newest(&self, scope: &MessageScope, filter: &MessageFilter) -> Vec<message::Message> {
        self.f.store.list_messages(self.f.app, scope, filter, &CursorRequest::newest(10)).unwrap().items
    }
}

#[test]
fn a_message_keeps_its_mentions_and_links_and_is_its_channels_newest() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        assert_eq!(hello.message_type, message::MessageType::Text);
        assert_eq!(hello.mentions.len(), 2, "{}: {:?}", db.label, hello.mentions);
        assert_eq!(hello.links[0].source, "https://example.com/x");
        assert_eq!((hello.links[0].start_position, hello.links[0].end_position), (13, 34));
        assert_eq!(t.f.store.find_channel(t.f.app, t.private.id).unwrap().unwrap().last_message_id, Some(hello.id));
    }
}

#[test]
fn a_non_member_may_not_post_in_a_private_channel() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let input = NewMessage {
            content: NewContent::Text("let me in".into()),
            user: Some(UserRef::Id(t.eve.id)),
            group_tag: None,
            properties: Properties::new(),
        };
        let f = &t.f;
        let refused = f.service.send_channel_message(&as_app(f.app), t.private.id, input);
        assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{}", db.label);
    }
}

#[test]
fn a_mention_notifies_once_with_the_most_specific_kind() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        t.hello();
        // Bob was mentioned: one notification, of the most specific kind; jane gets none.
        let bob_notes = t.notifications(&t.bob);
        assert_eq!(bob_notes.len(), 1, "{}", db.label);
        assert_eq!(bob_notes[0].kind.as_str(), "USER:MENTIONED:USER");
        assert!(t.notifications(&t.jane).is_empty());
    }
}

#[test]
fn a_reply_opens_a_message_thread_outside_the_main_one_and_notifies_the_parents_author() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        // Reply: a MESSAGE thread, nested level 1, replies count 1, a reply notification.
        let reply = t.reply(&hello, &t.bob);
        assert_eq!(reply.nested_level, 1, "{}", db.label);
        assert_eq!(t.f.store.find_message(t.f.app, hello.id).unwrap().unwrap().replies_count, 1);
        let thread = t.f.store.find_thread(t.f.app, reply.thread_id).unwrap().unwrap();
        assert_eq!(thread.parent_message_id, Some(hello.id));
        assert_eq!(t.notifications(&t.jane)[0].kind.as_str(), "USER:REPLIED_TO:MESSAGE");
        let main = t.newest(&MessageScope::Thread(t.private.main_thread_id), &MessageFilter::default());
        assert_eq!(
            main.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![hello.id],
            "replies stay out of the main thread"
        );
    }
}

#[test]
fn a_user_reacts_once_per_emoji() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let (f, hello) = (&t.f, t.hello());
        f.service.add_reaction(&as_app(f.app), hello.id, "👍", Some(&UserRef::Id(t.bob.id))).unwrap();
        f.service.add_reaction(&as_app(f.app), hello.id, "👍", Some(&UserRef::Id(t.bob.id))).unwrap();
        f.service.add_reaction(&as_app(f.app), hello.id, "👍", Some(&UserRef::Id(t.jane.id))).unwrap();
        let summary = f.store.reactions(&[hello.id]).unwrap();
        assert_eq!(summary.len(), 1, "{}", db.label);
        assert_eq!(summary[0].1.users.len(), 2, "a user reacts once per emoji");
        assert!(f.service.remove_reaction(&as_app(f.app), hello.id, "🎉", Some(&UserRef::Id(t.bob.id))).is_err());
    }
}

#[test]
fn reading_a_message_reads_every_older_one_and_leaves_a_receipt() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        t.reply(&hello, &t.bob);
        let later = t.f.say(&t.private, Some(&t.jane), "second");
        let unread = |who: &User| t.newest(&MessageScope::UnreadBy(who.id), &MessageFilter::default()).len();
        assert_eq!(unread(&t.bob), 2, "{}: his own reply is not unread", db.label);
        t.f.service.mark_read(&as_app(t.f.app), later.id, Some(&UserRef::Id(t.bob.id))).unwrap();
        assert_eq!(unread(&t.bob), 0, "reading a message reads every older one");
        let page = PageRequest::parse(None, None, &[]).unwrap();
        assert_eq!(t.f.service.read_receipts(&as_app(t.f.app), hello.id, &page).unwrap().items[0].user.id, t.bob.id);
    }
}

#[test]
fn text_search_is_case_insensitive_and_treats_wildcards_literally() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        t.reply(&hello, &t.bob);
        t.f.say(&t.private, Some(&t.jane), "second");
        let search = |text: &str| {
            t.newest(&MessageScope::Application, &MessageFilter { sender: None, query: Some(text.into()), since: None })
        };
        assert_eq!(search("SECOND").len(), 1, "{}", db.label);
        assert!(search("%").is_empty());
    }
}

#[test]
fn deleting_a_message_deletes_its_replies_and_their_notifications() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        let reply = t.reply(&hello, &t.bob);
        // Deleting the parent deletes the replies with it and returns the thread it lived in.
        let lived_in = t.f.service.delete_message(&as_app(t.f.app), hello.id, None).unwrap();
        assert_eq!(lived_in.id, t.private.main_thread_id, "{}", db.label);
        assert!(t.f.store.find_message(t.f.app, reply.id).unwrap().is_none());
        assert!(t.notifications(&t.jane).is_empty());
    }
}

#[test]
fn deleting_a_channel_deletes_everything_in_it() {
    for db in TestDatabase::all() {
        let t = Team::new(&db);
        let hello = t.hello();
        t.reply(&hello, &t.bob);
        let later = t.f.say(&t.private, Some(&t.jane), "second");
        // Deleting the channel takes everything in it, in one transaction.
        t.f.service.delete_channel(&as_app(t.f.app), t.private.id, None).unwrap();
        assert!(t.f.store.find_message(t.f.app, later.id).unwrap().is_none(), "{}", db.label);
        assert!(t.f.store.find_thread(t.f.app, t.private.main_thread_id).unwrap().is_none());
        assert!(t.f.store.member_ids(t.private.id).unwrap().is_empty());
    }
}

#[test]
fn cursor_pages_walk_forwards_and_back() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let room = f.channel(ChannelType::Public, Some("room"), &[]);
        let sent: Vec<MessageId> = (0..7).map(|i| f.say(&room, None, &format!("m{i}")).id).collect();
        let scope = MessageScope::Thread(room.main_thread_id);
        let read =
            |request: CursorRequest| f.store.list_messages(f.app, &scope, &MessageFilter::default(), &request).unwrap();
        let first = read(CursorRequest::newest(3));
        assert_eq!(
            first.items.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![sent[6], sent[5], sent[4]],
            "{}",
            db.label
        );
        assert!(!first.has_newer);
        let second = read(CursorRequest { size: 3, range: KeyRange::Before(first.next.unwrap()) });
        assert_eq!(second.items.iter().map(|m| m.id).collect::<Vec<_>>(), vec![sent[3], sent[2], sent[1]]);
        assert!(second.has_newer);
        let third = read(CursorRequest { size: 3, range: KeyRange::Before(second.next.unwrap()) });
        assert_eq!(third.items.iter().map(|m| m.id).collect::<Vec<_>>(), vec![sent[0]]);
        assert_eq!(third.next, None, "the oldest page has no next");
        let back = read(CursorRequest { size: 3, range: KeyRange::After(second.start.unwrap()) });
        assert_eq!(back.items.iter().map(|m| m.id).collect::<Vec<_>>(), vec![sent[6], sent[5], sent[4]]);
        let same = read(CursorRequest { size: 3, range: KeyRange::AtOrBefore(second.start.unwrap()) });
        assert_eq!(same.items, second.items, "SELF re-reads the page");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Paging back through a channel while messages keep arriving never skips or repeats one.
    #[test]
    fn paging_while_messages_arrive_never_skips_or_repeats(initial in 1usize..40, page_size in 1u32..8, arrivals in proptest::collection::vec(0usize..4, 1..12)) {
        let db = TestDatabase::sqlite();
        let f = Fixture::new(&db);
        let room = f.channel(ChannelType::Public, Some("busy"), &[]);
        let before: Vec<i64> = (0..initial).map(|i| f.say(&room, None, &format!("old {i}")).id.0).collect();
        let scope = MessageScope::Thread(room.main_thread_id);
        let mut seen: Vec<i64> = Vec::new();
        let mut request = CursorRequest::newest(page_size);
        let mut step = 0;
        loop {
            let page = f.store.list_messages(f.app, &scope, &MessageFilter::default(), &request).unwrap();
            seen.extend(page.items.iter().map(|m| m.id.0));
            // New messages arrive between page reads.
            for i in 0..arrivals.get(step).copied().unwrap_or(0) {
                f.say(&room, None, &format!("new {step}/{i}"));
            }
            step += 1;
            match page.next {
                Some(next) => request = CursorRequest { size: page_size, range: KeyRange::Before(next) },
                None => break,
            }
        }
        let mut expected = before;
        expected.reverse();
        prop_assert_eq!(seen, expected);
    }
}

/// Jane, bob and carol in a private room, and jane's message there.
fn room_with_a_parent(db: &TestDatabase) -> (Fixture, [User; 3], channel::Channel, message::Message) {
    let f = Fixture::new(db);
    let (jane, bob, carol) = (f.user("jane"), f.user("bob"), f.user("carol"));
    let room = f.channel(ChannelType::Private, Some("room"), &[&jane, &bob, &carol]);
    let parent = f.say(&room, Some(&jane), "parent");
    (f, [jane, bob, carol], room, parent)
}

/// `who` replies "re" to `parent`.
fn reply_re(f: &Fixture, parent: &message::Message, who: &User) -> message::Message {
    let input = NewMessage {
        content: NewContent::Text("re".into()),
        user: Some(UserRef::Id(who.id)),
        group_tag: None,
        properties: Properties::new(),
    };
    f.service.reply_to_message(&as_app(f.app), parent.id, input).unwrap().value
}

#[test]
fn a_reply_deleted_twice_is_uncounted_once() {
    for db in TestDatabase::all() {
        let (f, [_, bob, _], _, parent) = room_with_a_parent(&db);
        let reply = reply_re(&f, &parent, &bob);
        // The same delete twice (a retried request) counts once.
        f.store.delete_message(&reply, false).unwrap();
        f.store.delete_message(&reply, false).unwrap();
        assert_eq!(f.store.find_message(f.app, parent.id).unwrap().unwrap().replies_count, 0, "{}", db.label);
    }
}

#[test]
fn a_removed_member_hears_nothing_of_replies_to_their_old_messages() {
    for db in TestDatabase::all() {
        let (f, [jane, bob, _], room, parent) = room_with_a_parent(&db);
        f.service.remove_member(&as_app(f.app), room.id, jane.id).unwrap();
        reply_re(&f, &parent, &bob);
        let jane_kinds: Vec<&str> = f
            .store
            .list_notifications(f.app, jane.id, &CursorRequest::newest(10))
            .unwrap()
            .items
            .iter()
            .map(|n| n.kind.as_str())
            .collect();
        assert!(!jane_kinds.contains(&"USER:REPLIED_TO:MESSAGE"), "{}: {jane_kinds:?}", db.label);
    }
}

#[test]
fn replies_to_a_deleted_users_message_still_work() {
    for db in TestDatabase::all() {
        let (f, [_, bob, carol], room, _) = room_with_a_parent(&db);
        let bobs = f.say(&room, Some(&bob), "from bob");
        f.service.delete_user(&as_app(f.app), bob.id, None).unwrap();
        let input = NewMessage {
            content: NewContent::Text("still here".into()),
            user: Some(UserRef::Id(carol.id)),
            group_tag: None,
            properties: Properties::new(),
        };
        f.service.reply_to_message(&as_app(f.app), bobs.id, input).unwrap();
    }
}

#[test]
fn a_stale_user_update_is_refused_rather_than_overwriting_a_newer_one() {
    for db in TestDatabase::all() {
        let (f, [_, _, carol], _, _) = room_with_a_parent(&db);
        let fresh = f.store.find_user(f.app, carol.id).unwrap().unwrap();
        let mut stale = fresh.clone();
        stale.display_name = "stale".into();
        stale.version += 1;
        let mut newer = fresh;
        newer.display_name = "newer".into();
        newer.version += 1;
        f.store.update_user(&newer).unwrap();
        assert!(matches!(f.store.update_user(&stale), Err(roost_domain::StoreError::Conflict(_))), "{}", db.label);
        assert_eq!(f.store.find_user(f.app, carol.id).unwrap().unwrap().display_name, "newer");
    }
}

#[test]
fn unread_works_for_a_member_of_a_thousand_channels() {
    let db = TestDatabase::sqlite();
    let f = Fixture::new(&db);
    let member = f.user("busy");
    for i in 0..1_100 {
        let c = channel::Channel {
            id: roost_domain::ChannelId(f.ids.next_id()),
            application_id: f.app,
            channel_type: ChannelType::Public,
            name: Some(format!("c{i}")),
            display_name: Some(format!("c{i}")),
            creator_id: None,
            properties: Properties::new(),
            main_thread_id: roost_domain::ThreadId(f.ids.next_id()),
            last_message_id: None,
            created_time: now(),
            version: 1,
            updated_time: None,
        };
        f.store.insert_channel(&c, None, &[member.id]).unwrap();
    }
    let last = f.store.find_channel_by_name(f.app, "c1099").unwrap().unwrap();
    f.say(&last, None, "hello");
    let unread = f
        .store
        .list_messages(f.app, &MessageScope::UnreadBy(member.id), &MessageFilter::default(), &CursorRequest::newest(10))
        .unwrap();
    assert_eq!(unread.items.len(), 1, "SQLite's expression depth limit is 1 000");
}

#[test]
fn concurrent_posts_are_committed_in_groups_each_answered_alone() {
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let (ann, ben) = (f.user("ann"), f.user("ben"));
        let rooms = [
            f.channel(ChannelType::Public, Some("one"), &[&ann, &ben]),
            f.channel(ChannelType::Public, Some("two"), &[&ann, &ben]),
        ];
        let victim = f.say(&rooms[1], Some(&ben), "soon deleted");
        let (sent, replies) = std::thread::scope(|s| {
            let posters: Vec<_> = (0..8)
                .map(|t| {
                    let (f, rooms, ann) = (&f, &rooms, &ann);
                    s.spawn(move || {
                        (0..25).map(|i| f.say(&rooms[(t + i) % 2], Some(ann), &format!("{t}-{i}"))).collect::<Vec<_>>()
                    })
                })
                .collect();
            // Replies race the deletion of their parent: each either lands before it (and goes
            // with it) or fails alone; the posts grouped with it are not affected.
            let replier = s.spawn(|| {
                (0..20)
                    .map(|_| {
                        let input = NewMessage {
                            content: NewContent::Text("re".into()),
                            user: Some(UserRef::Id(ben.id)),
                            group_tag: None,
                            properties: Properties::new(),
                        };
                        f.service.reply_to_message(&as_app(f.app), victim.id, input)
                    })
                    .collect::<Vec<_>>()
            });
            std::thread::sleep(std::time::Duration::from_millis(5));
            f.store.delete_message(&victim, false).unwrap();
            let sent: Vec<Vec<message::Message>> = posters.into_iter().map(|p| p.join().unwrap()).collect();
            (sent, replier.join().unwrap())
        });
        let mut ids: Vec<i64> = sent.iter().flatten().map(|m| m.id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200, "every post stored once, with its own id ({})", db.label);
        for (t, posts) in sent.iter().enumerate() {
            assert!(posts.windows(2).all(|w| w[0].id < w[1].id), "one poster's messages keep their order");
            assert_eq!(posts[3].body.as_deref(), Some(format!("{t}-3").as_str()));
        }
        for reply in replies.into_iter().flatten() {
            assert!(f.store.find_message(f.app, reply.value.id).unwrap().is_none(), "no orphan reply ({})", db.label);
        }
        for room in &rooms {
            let stored = f.store.find_channel(f.app, room.id).unwrap().unwrap();
            let scope = MessageScope::Thread(room.main_thread_id);
            let page =
                f.store.list_messages(f.app, &scope, &MessageFilter::default(), &CursorRequest::newest(100)).unwrap();
            assert_eq!(page.items.len(), 100, "{}", db.label);
            assert_eq!(stored.last_message_id, Some(page.items[0].id), "the channel points at its newest message");
        }
        // Ben, the other member, was notified of Ann's posts.
        let notified = f.store.list_notifications(f.app, ben.id, &CursorRequest::newest(100)).unwrap();
        assert_eq!(notified.items.len(), 100, "{}", db.label);
    }
}

#[test]
fn a_post_lands_above_a_newer_message_from_a_node_whose_clock_runs_ahead() {
    use diesel::RunQueryDsl;
    for db in TestDatabase::all() {
        let f = Fixture::new(&db);
        let ann = f.user("ann");
        let room = f.channel(ChannelType::Public, Some("room"), &[&ann]);
        let first = f.say(&room, Some(&ann), "first");
        // Another node, its clock a minute ahead, stored the channel's newest message (the
        // milliseconds sit above 12 bits of node and sequence). This node draws ids above it
        // at once; it does not wait a minute for its clock.
        let ahead = first.id.0 + (60_000 << 12);
        let mut conn = db.url.connect().unwrap();
        diesel::sql_query(format!("UPDATE channels SET last_message_id = {ahead} WHERE id = {}", room.id.0))
            .execute(&mut conn)
            .unwrap();
        let second = f.say(&room, Some(&ann), "second");
        assert!(second.id.0 > ahead, "ids are drawn again above the newest ({})", db.label);
        let stored = f.store.find_channel(f.app, room.id).unwrap().unwrap();
        assert_eq!(stored.last_message_id, Some(second.id), "{}", db.label);
        let third = f.say(&room, Some(&ann), "third");
        assert!(third.id > second.id, "{}", db.label);
    }
}
