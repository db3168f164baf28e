DROP TABLE user_secrets;
DROP TABLE users;
DROP TABLE access_tokens;
DROP TABLE oauth_clients;
DROP TABLE applications;
DROP TABLE organizations;
