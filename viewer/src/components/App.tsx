/**
 * The viewer: finish the SMART launch, open the record through the gate ($everything, one audited
 * read), and show it. A refusal with no care relationship offers break glass; a whole-record
 * objection shows only that the record exists. Nothing is stored beyond the session.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Patient } from '@medplum/fhirtypes';
import { parseRecord, type RecordData } from '../model/record.ts';
import { refusalOf } from '../model/notices.ts';
import {
  ApiError,
  readContext,
  readRecord,
  readItem,
  readPatient,
  readSources,
  startSession,
  takeEarlyContext,
  takeEarlyRecord,
  type Contributor,
  type Session,
  type ViewerContext,
} from '../session.ts';
import { formatNhsNumber } from '../model/format.ts';
import { ANNOUNCER_ID } from '../announce.ts';
import { Banner } from './Banner.tsx';
import { BreakGlass } from './BreakGlass.tsx';
import { Header } from './Header.tsx';
import { Message } from './Message.tsx';
import { Notices } from './Notices.tsx';
import { RecordView } from './RecordView.tsx';

type State =
  | { phase: 'starting' }
  | { phase: 'no-session'; why: string }
  | { phase: 'loading'; session: Session }
  | { phase: 'ready'; session: Session; record: RecordData }
  | { phase: 'refused'; session: Session; text: string; breakGlass: boolean; patient?: Patient }
  /** the launch named an NHS number that no one in the shared record has */
  | { phase: 'no-person'; nhsNumber?: string }
  /** the user's organisation does not view the shared care record (or does not take part) */
  | { phase: 'not-viewing'; organisation: ViewerContext['organisation'] }
  /** the user's role sees no section of the record (an administrator, an unknown role code) */
  | { phase: 'role-sees-nothing'; role: ViewerContext['role'] }
  | { phase: 'ended' }
  | { phase: 'error'; message: string };

export function App() {
  const [state, setState] = useState<State>({ phase: 'starting' });
  const [sources, setSources] = useState<Contributor[] | undefined>();
  const [context, setContext] = useState<ViewerContext | undefined>();

  const open = useCallback(async (session: Session) => {
    setState({ phase: 'loading', session });
    readSources(session).then(
      (r) => setSources(r.organisations),
      () => setSources([]),
    );
    // who is signed in and what their role may see: the server says; the viewer only shows it
    const ctx = await (takeEarlyContext() ?? readContext(session)).catch(() => undefined);
    setContext(ctx);
    if (ctx && !ctx.organisation.views)
      return setState({ phase: 'not-viewing', organisation: ctx.organisation });
    if (ctx && ctx.sections.length === 0) return setState({ phase: 'role-sees-nothing', role: ctx.role });
    if (!session.patientId) {
      if (ctx?.patient) return setState({ phase: 'no-person', nhsNumber: ctx.patient.nhsNumber });
      return setState({ phase: 'no-session', why: 'the launch did not name a patient' });
    }
    try {
      const bundle = await (takeEarlyRecord() ?? readRecord(session));
      performance.mark('sc-fetched');
      const record = parseRecord(bundle);
      performance.mark('sc-parsed');
      setState({ phase: 'ready', session, record });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return setState({ phase: 'ended' });
      if (err instanceof ApiError && err.status === 403) {
        const refusal = refusalOf(err.outcome);
        const patient = await readPatient(session).catch(() => undefined);
        return setState({ phase: 'refused', session, ...refusal, ...(patient ? { patient } : {}) });
      }
      setState({ phase: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }, []);

  useEffect(() => {
    startSession().then(
      (session) => {
        performance.mark('sc-session');
        void open(session);
      },
      (err: unknown) =>
        setState({ phase: 'no-session', why: err instanceof Error ? err.message : String(err) }),
    );
  }, [open]);

  const orgKinds = useMemo(() => new Map((sources ?? []).map((o) => [o.ods, o.kind ?? ''])), [sources]);

  let body;
  switch (state.phase) {
    case 'starting':
    case 'loading':
      body = (
        <Message title="Opening the record" status>
          Loading the shared care record…
        </Message>
      );
      break;
    case 'no-session':
      body = (
        <Message title="Open the Shared Care Record from your clinical system">
          <p>
            The Shared Care Record opens in the context of the patient you are looking at in your own clinical
            system, with no second sign-in. Use its “Shared Care Record” button.
          </p>
          <p className="sc-status-line">({state.why})</p>
        </Message>
      );
      break;
    case 'no-person':
      body = (
        <Message title="No one with this NHS number is in the shared care record">
          <p>
            {state.nhsNumber ? `NHS number ${formatNhsNumber(state.nhsNumber)}` : 'The NHS number'} does not
            match anyone whose records the organisations taking part share. Check the NHS number in your
            clinical system; the person may not have been seen by any of them yet.
          </p>
        </Message>
      );
      break;
    case 'not-viewing':
      body = (
        <Message title="Your organisation does not view the shared care record">
          <p>
            {state.organisation.takesPart
              ? `${state.organisation.name ?? state.organisation.ods} shares its records with the shared care record but does not view it, so its staff cannot open records here.`
              : `${state.organisation.name ?? `Organisation ${state.organisation.ods}`} does not take part in the shared care record.`}{' '}
            If you need access, ask your organisation’s information governance lead.
          </p>
        </Message>
      );
      break;
    case 'role-sees-nothing':
      body = (
        <Message title="Your role does not give access to the shared care record">
          <p>
            The role you are signed in with ({state.role.name}
            {state.role.name !== state.role.code ? `, ${state.role.code}` : ''}) does not see records here.
            Sign in to your clinical system with a role for direct care, or ask your organisation’s
            information governance lead.
          </p>
        </Message>
      );
      break;
    case 'ended':
      body = (
        <Message title="Your session has ended">
          <p>For safety, a session lasts a limited time. Open the record again from your clinical system.</p>
        </Message>
      );
      break;
    case 'error':
      body = (
        <Message title="The record could not be opened">
          <p>{state.message}</p>
        </Message>
      );
      break;
    case 'refused':
      body = (
        <>
          {state.patient && <Banner patient={state.patient} />}
          <BreakGlass
            text={state.text}
            allowed={state.breakGlass}
            session={state.session}
            onGranted={() => void open(state.session)}
          />
        </>
      );
      break;
    case 'ready':
      body = (
        <>
          {state.record.patient && <Banner patient={state.record.patient} />}
          <Notices notices={state.record.notices} />
          <RecordView
            record={state.record}
            sections={context?.sections}
            roleName={context?.role.name}
            sources={sources}
            orgKinds={orgKinds}
            readItem={(item) => readItem(state.session, item.type, item.id)}
          />
        </>
      );
      break;
  }
  return (
    <>
      <a className="sc-skip-link" href="#main">
        Skip to the record
      </a>
      <Header context={context} />
      {body}
      <div id={ANNOUNCER_ID} className="sc-visually-hidden" role="status" aria-live="polite" />
    </>
  );
}
