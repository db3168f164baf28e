DROP TABLE chat_sessions;
DROP TABLE open_streams;
