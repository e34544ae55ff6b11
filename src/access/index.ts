export { decideRecordAccess, type AccessDecision, type OrganisationFacts } from './decide.ts';
export {
  AUDIENCE,
  DEV_ISSUER,
  mintSourceToken,
  mintUserToken,
  verifyDevToken,
  type UserTokenRequest,
} from './dev-issuer.ts';
export {
  ADMIN_ROLE,
  DPO_ROLE,
  type Principal,
  type SourcePrincipal,
  type UserPrincipal,
} from './principal.ts';
