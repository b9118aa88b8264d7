/**
 * configs, secrets and build: read and checked with lines, and a service that uses them is marked as
 * not applied yet (its reason goes into the plan as one skip), never a refusal of the whole file.
 */
import { describe, expect, it } from "vitest"
import { app, errors, FILE, service, warnings } from "../support/compose-parse.ts"

describe("configs and secrets", () => {
  const text = `
services:
  web:
    image: moor-fixture/app:1
    secrets:
      - db_password
      - source: api_key
        target: /run/secrets/key
        uid: "1000"
        gid: 1000
        mode: 0400
    configs:
      - source: nginx
        target: /etc/nginx/nginx.conf
        mode: "0444"
  cache:
    image: moor-fixture/app:1
secrets:
  db_password: { file: ./db_password.txt }
  api_key: { environment: API_KEY }
  cert: { external: true, name: shop-cert }
configs:
  nginx:
    content: |
      server { listen 80; }
  other: { file: ./other.conf, labels: [a=b] }
`

  it("load, and mark each service that uses one with the reason it is not applied", () => {
    const a = app(text)
    const services = a.services as Record<string, Record<string, unknown>>
    expect(services.web?.notApplied).toBe(
      "configs/secrets are not applied yet: the service uses secret db_password, secret api_key, config nginx; until moor mounts them, mount the files with volumes:"
    )
    expect(services.cache?.notApplied).toBeUndefined()
    expect(a).not.toHaveProperty("secrets")
    expect(a).not.toHaveProperty("configs")
  })

  it("refuses an undeclared name, a missing or double source, and malformed entries, each at its line", () => {
    expect(
      errors(`
services:
  web:
    image: x
    secrets: [nope, { target: /x }, { source: token, mode: rw }]
    configs: token
secrets:
  token: { file: ./t, environment: T }
  empty: {}
  ext: { external: true, file: ./x }
  nothing:
configs:
  inline: { content: x, template_driver: golang, driver: x }
`)
    ).toEqual([
      `${FILE}:5:15: services.web.secrets[0]: secret "nope" is not declared in the top-level secrets; add "secrets: { nope: { file: ... } }"`,
      `${FILE}:5:21: services.web.secrets[1]: a secret entry needs a source`,
      `${FILE}:5:60: services.web.secrets[2].mode: "rw" is not a file mode: write it in octal, e.g. 0755 or 1777`,
      `${FILE}:6:14: services.web.configs: expected a list, got the string "token"`,
      `${FILE}:8:3: secrets.token: secret token has more than one source (file, environment): keep one`,
      `${FILE}:9:3: secrets.empty: secret empty needs a source: file, environment or external: true`,
      `${FILE}:10:3: secrets.ext: an external secret has no file: drop external or file`,
      `${FILE}:11:3: secrets.nothing: secret nothing needs a source: file, environment or external: true`,
      `${FILE}:13:50: configs.inline.driver: unknown key "configs.driver"`
    ])
  })
})

describe("build", () => {
  it("a service that is only built is not applied yet, and named like the image Compose would build", () => {
    const s = service("services:\n  Web:\n    build: ./web\n", {}, "Web")
    expect(s).toEqual({
      image: "web-web",
      notApplied: "building images is not applied yet: build and push the image, then set image:"
    })
  })

  it("a service with build and image runs the image, with a warning that moor pulls it", () => {
    const text = "services:\n  s:\n    image: shop/web:2\n    build:\n      context: .\n      args: { A: 1 }\n"
    expect(service(text)).toEqual({ image: "shop/web:2" })
    expect(warnings(text)).toEqual([
      `${FILE}:4:5: services.s.build: moor pulls the image shop/web:2 rather than building it (build: is not applied yet)`
    ])
  })

  it("both reasons in one, when a built service also uses a secret", () => {
    const s = service("services:\n  s:\n    build: .\n    secrets: [t]\nsecrets:\n  t: { file: ./t }\n")
    expect(s.notApplied).toBe(
      "building images is not applied yet: build and push the image, then set image:; configs/secrets are not applied yet: the service uses secret t; until moor mounts them, mount the files with volumes:"
    )
  })

  it("refuses a build that is neither a path nor a mapping", () => {
    expect(errors("services:\n  s:\n    build: [.]\n")).toEqual([
      `${FILE}:3:12: services.s.build: expected a build context path or a mapping, got a list`
    ])
  })
})
