DROP TABLE roost_nodes;
DROP TABLE stream_presence;
DROP TABLE stream_tickets;
DROP TABLE event_counters;
DROP TABLE events;
