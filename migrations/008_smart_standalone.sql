-- access: SMART standalone launch for administrators and the data protection officer. Sharedcare
-- sends them to the region's identity provider to sign in; while they are away it keeps the app's
-- authorisation request and the PKCE verifier and nonce of its own sign-in, under a single-use
-- state. A standalone launch has no patient in context.
CREATE TABLE smart_signin (
  state          text PRIMARY KEY,
  issuer         text NOT NULL,
  request        text NOT NULL,
  code_verifier  text NOT NULL,
  nonce          text NOT NULL,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);
ALTER TABLE smart_launch ALTER COLUMN nhs_number DROP NOT NULL;
