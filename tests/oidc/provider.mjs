// A real OpenID provider for the single sign-on tests: npm's `oidc-provider` (OpenID Certified,
// pinned in package.json), on loopback, with two clients as the app is registered with CIS2 and
// Entra ID (one `client_secret_basic`, one `private_key_jwt` signing RS512) and synthetic people.
//
// Usage: node tests/oidc/provider.mjs '<json>' where the JSON holds
//   port          where to listen (127.0.0.1)
//   issuer        the issuer it announces (may be a proxy in front of it, on another port)
//   redirect_uri  the app's callback
//   secret        the client secret of `mdt-basic`
//   client_jwk    the public key (JWK) of `mdt-jwt`'s private_key_jwt assertions
//   users         { login: { email, email_verified, name } }; the login is the stable subject
//                 ("any": every login is a verified email address)
// It prints one line of JSON when listening: { port, signing_key_pem (PKCS#1), kid }, so a
// test can sign tokens with the provider's own key (to show every other check still refuses).
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = `provider-${Date.now().toString(36)}`;
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };

const provider = new Provider(config.issuer, {
  clients: [
    {
      client_id: 'mdt-basic',
      client_secret: config.secret,
      redirect_uris: [config.redirect_uri],
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
    {
      client_id: 'mdt-jwt',
      redirect_uris: [config.redirect_uri],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS512',
      jwks: { keys: [config.client_jwk] },
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  jwks: { keys: [signingJwk] },
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS256', 'RS512', 'PS256', 'ES256'],
  },
  pkce: { required: () => true },
  // The email goes in the ID token itself, as CIS2 and Entra ID put it there.
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    // `users: "any"`: whoever signs in is known, their login being their verified email (for
    // tests that sign many people in through the provider).
    const person = config.users === 'any'
      ? { email: id, email_verified: true, name: id }
      : config.users[id];
    if (!person) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...person }) };
  },
  // Like CIS2, no consent screen: the organisation has approved the app for its staff.
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name']);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' });
  process.stdout.write(`${JSON.stringify({ port: server.address().port, signing_key_pem: pem, kid })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
