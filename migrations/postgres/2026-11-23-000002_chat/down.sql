DROP TABLE notifications;
DROP TABLE read_marks;
DROP TABLE reactions;
DROP TABLE messages;
DROP TABLE threads;
DROP TABLE channel_invites;
DROP TABLE channel_members;
DROP TABLE channels;
