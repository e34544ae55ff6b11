-- access: SMART on FHIR EHR launch. A clinical system registers a launch context (its user, the
-- patient) over an authenticated back channel and gets an opaque id; the app exchanges it for an
-- authorisation code and then a session token bound to that patient. Both are single-use and short-lived.
CREATE TABLE smart_launch (
  id          text PRIMARY KEY,
  principal   text NOT NULL,
  nhs_number  text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

CREATE TABLE smart_code (
  code            text PRIMARY KEY,
  launch_id       text NOT NULL REFERENCES smart_launch (id),
  client_id       text NOT NULL,
  redirect_uri    text NOT NULL,
  code_challenge  text,
  scope           text NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
