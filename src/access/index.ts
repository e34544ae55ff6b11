export {
  activeBreakGlass,
  activeBreakGlassFragment,
  BREAK_GLASS_REASONS,
  grantBreakGlass,
  type BreakGlassGrant,
  type BreakGlassReason,
} from './break-glass.ts';
export {
  decideRecordAccess,
  DEFAULT_ACCESS_RULES,
  type AccessDecision,
  type AccessFacts,
  type AccessRules,
  type OrganisationFacts,
  type RefusalCode,
} from './decide.ts';
export {
  AUDIENCE,
  CLI_ORG,
  DEV_ISSUER,
  mintSourceToken,
  mintUserToken,
  verifyDevToken,
  type UserTokenRequest,
} from './dev-issuer.ts';
export { createTokenVerifier, mapClaims } from './token-verifier.ts';
export {
  ADMIN_ROLE,
  DPO_ROLE,
  isBoundElsewhere,
  type Principal,
  type SourcePrincipal,
  type UserPrincipal,
} from './principal.ts';
export {
  reassignRelationshipFacts,
  recordRelationshipFacts,
  relationshipFacts,
  relationshipsWith,
  relationshipsFragment,
  type ItemFacts,
  type RelationshipFact,
  type RelationshipKind,
  type RelationshipSummary,
} from './relationships.ts';
export {
  accessKindOf,
  ALL_SECTIONS,
  DEFAULT_ROLES,
  ROLE_NAMES,
  roleAccess,
  SECTIONS_BY_KIND,
  type AccessKind,
} from './roles.ts';
export {
  authorize,
  authorizeStandalone,
  checkAuthorizeRequest,
  boundElsewhereError,
  createLaunch,
  exchangeCode,
  SESSION_ISSUER,
  smartConfiguration,
  verifySessionToken,
  type AuthorizeRequest,
  type SessionToken,
  type SmartClient,
  type TokenRequest,
} from './smart.ts';
export { beginSignIn, finishSignIn, signInProvider } from './sign-in.ts';
