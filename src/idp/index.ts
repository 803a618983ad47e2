export { createBuiltinProvider, IDP_PREFIX, type BuiltinProvider, type BuiltinProviderOptions } from './provider.ts';
export type { ProviderFetch } from './back-channel.ts';
export { DEFAULT_ARGON2, hashPassword, parsePhc, verifyPhc, type Argon2Parameters, type PhcHash } from './phc.ts';
export { generateTotpSecret, decodeBase32, matchTotp, otpauthUri } from './totp.ts';
export { UsersFile, type NewUser, type UserField } from './users-edit.ts';
export { parseUsersFile, findUser, type UserRecord, type UsersSnapshot } from './users-file.ts';
export { randomPassword, usersFilePath } from './users-store.ts';
export { createAppProvider, APPS_PREFIX, type AppProvider, type AppProviderOptions } from './app-provider.ts';
export { appClientsDir, createAppClientSecrets } from './app-clients.ts';
