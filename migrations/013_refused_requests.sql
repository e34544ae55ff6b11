-- Requests refused before the gate (no or bad token, wrong caller) are audited as request.refused
-- events with no person and mostly no user: the DPO's report of them reads this index by time.
CREATE INDEX IF NOT EXISTS audit_event_refused_request ON audit_event (at) WHERE action = 'request.refused';
