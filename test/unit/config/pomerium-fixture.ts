/** A Pomerium config as a self-hoster would have it, routes unchanged from a working setup. */
export const POMERIUM_FILE = `# Pomerium Core config (trimmed)
authenticate_service_url: https://authenticate.nas.example
idp_provider: oidc
idp_provider_url: https://id.nas.example
idp_client_id: pomerium
idp_client_secret: do-not-echo-me

routes:
  - from: https://code.nas.example
    to: http://code-server:8443
    name: Code
    logo_url: https://cdn.example/code.svg
    policy:
      - allow:
          or:
            - email:
                is: alice@example.com
    allow_websockets: true
    preserve_host_header: true
    pass_identity_headers: true

  - from: https://grafana.nas.example
    to:
      - http://10.0.0.21:3000,2
      - http://10.0.0.22:3000,1
    load_balancing_policy: LEAST_REQUEST
    allowed_domains:
      - example.com
    allowed_idp_claims:
      groups:
        - grafana-admins
        - grafana-editors
    set_request_headers:
      X-WEBAUTH-USER: \${pomerium.jwt}
    remove_request_headers:
      - X-Debug
    timeout: 60s

  - from: https://files.nas.example
    to: https://192.168.1.20:5001
    tls_skip_verify: true
    prefix: /share
    allow_public_unauthenticated_access: true

  - from: https://status.nas.example
    to: http://127.0.0.1:3001
    allow_any_authenticated_user: true
    cors_allow_preflight: true
    idle_timeout: 5m
    description: Uptime dashboard

  - from: https://admin.nas.example
    to: http://portainer:9000
    allowed_users:
      - bob@example.com
      - 00u1a2b3c4
    allowed_groups: [nas-admins]
    policy:
      allow:
        or:
          - domain:
              is: ops.example.com
          - claim/role: admin
          - groups:
              has: ops
          - user:
              is: 1234
      deny:
        or:
          - email:
              is: mallory@example.com
`;
