"""Write a deterministic, realistic trade-show lead CSV for the import benchmarks.

    python benchmarks/gen_leads.py N OUT.csv [--seed 20240611]

Semicolon-separated UTF-8 with the header ``Nome;E-mail;Telefone;Empresa;Cargo;Origem;
Orçamento;Prazo``, as a Brazilian badge scanner exports it: Portuguese and English names (with
accents), Brazilian phones, amounts like ``R$ 12.345,67``, dates ``dd/mm/yyyy``, some empty
optional cells and a few quoted cells. About 2% of the rows repeat an earlier e-mail (sometimes
in another case or with spaces around it) and about 1% are bad (an invalid e-mail or amount),
so a correct import reports them as skipped and rejected. Rows are streamed: memory use does
not grow with N. The same N and seed always give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import unicodedata
from collections import deque
from collections.abc import Iterator
from pathlib import Path

SEED = 20240611
HEADER = ["Nome", "E-mail", "Telefone", "Empresa", "Cargo", "Origem", "Orçamento", "Prazo"]
DUPLICATE_RATE = 0.02
BAD_RATE = 0.01
RECENT = 5000
"""How many recent e-mails a duplicate may repeat (bounded, so memory stays flat)."""

FIRST_PT = [
    "João", "Maria", "José", "Ana", "Antônio", "Francisca", "Carlos", "Luíza", "Paulo",
    "Fernanda", "Lucas", "Juliana", "Marcos", "Patrícia", "Rafael", "Camila", "Gustavo",
    "Letícia", "Thiago", "Beatriz", "André", "Conceição", "Sérgio", "Mônica", "Vinícius",
    "Aline", "Rodrigo", "Gabriela", "Fábio", "Renata", "Márcio", "Cláudia", "Raimundo",
    "Débora", "Otávio", "Íris", "Caio", "Helena", "Matheus", "Lívia",
]  # fmt: skip
LAST_PT = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Araújo", "Melo", "Barbosa",
    "Cardoso", "Rocha", "Dias", "Nascimento", "Conceição", "Gonçalves", "Magalhães",
    "Brandão", "Assunção", "Falcão", "Simões", "Guimarães", "Teixeira",
]  # fmt: skip
FIRST_EN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Emily", "Chris", "Olivia", "Kevin", "Megan",
]  # fmt: skip
LAST_EN = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark", "O'Connor", "Walker",
    "Young", "King",
]  # fmt: skip
COMPANY_HEAD = [
    "Acme", "Agro", "Alfa", "Atlântica", "Beta", "Brasil", "Cerrado", "Delta", "Engenharia",
    "Ômega", "Horizonte", "Ipê", "Jequitibá", "Litoral", "Mineração", "Nordeste", "Paraná",
    "Pampa", "Sertão", "Tech", "Vale", "Globex", "Initech", "Northwind", "Contoso", "Umbrella",
]  # fmt: skip
COMPANY_TAIL = [
    "Ltda", "S.A.", "ME", "EIRELI", "Comércio Ltda", "Indústria e Comércio", "Serviços",
    "Soluções", "Tecnologia", "Logística", "Inc.", "LLC", "Group", "& Filhos",
    "Participações S.A.",
]  # fmt: skip
TITLES = [
    "Diretor Comercial", "Gerente de Compras", "Analista de TI", "CEO", "CTO", "CFO",
    "Coordenador de Marketing", "Sócio", "Sócia-diretora", "Comprador", "Engenheira de Produção",
    "Head of Sales", "Procurement Manager", "Gerente de Operações", "Supervisor de Logística",
    "Assistente Administrativo", "", "",
]  # fmt: skip
SOURCES = [
    "Feira Agrishow 2024", "Feira Agrishow 2024", "Feira Agrishow 2024", "Fenatran 2024",
    "Expo Construção", "Site", "Indicação", "LinkedIn", "Webinar", "",
]  # fmt: skip
DOMAINS_PT = [
    "gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "bol.com.br",
    "terra.com.br", "empresa.com.br", "agro.com.br", "industria.ind.br",
]  # fmt: skip
DOMAINS_EN = ["gmail.com", "outlook.com", "example.com", "acme.io", "contoso.com"]
AREA_CODES = ["11", "21", "31", "41", "48", "51", "61", "62", "71", "81", "85", "92"]
BAD_EMAILS = [
    "{local}@{domain_no_dot}",
    "{local}@@{domain}",
    "{local} @ {domain}",
    "{local}.@{domain}",
    "{local}",
    "{local}@{domain},{local}2@{domain}",
]
BAD_AMOUNTS = ["R$ 12,3,4", "a combinar", "R$ -", "R$ 1.2.3,45", "dez mil", "R$ 12.34.5,6"]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-"))


def _amount(rng: random.Random) -> str:
    value = rng.choice((rng.randint(500, 9_999), rng.randint(10_000, 999_999)))
    cents = rng.randint(0, 99)
    grouped = f"{value:,}".replace(",", ".")
    return f"R$ {grouped},{cents:02d}"


def _phone(rng: random.Random) -> str:
    ddd = rng.choice(AREA_CODES)
    number = f"9{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    style = rng.random()
    if style < 0.4:
        return f"({ddd}) {number}"
    if style < 0.8:
        return f"+55 {ddd} {number}"
    return f"{ddd}{number.replace('-', '')}"


def rows(n: int, seed: int = SEED) -> Iterator[list[str]]:
    """Yield `n` data rows (lists of 8 strings), deterministically from `seed`."""
    rng = random.Random(seed)
    recent: deque[str] = deque(maxlen=RECENT)
    for i in range(n):
        english = rng.random() < 0.25
        first = rng.choice(FIRST_EN if english else FIRST_PT)
        last = rng.choice(LAST_EN if english else LAST_PT)
        if not english and rng.random() < 0.35:
            last = f"{rng.choice(LAST_PT)} {last}"
        name = f"{first} {last}"
        domain = rng.choice(DOMAINS_EN if english else DOMAINS_PT)
        local = f"{_ascii(first)}.{_ascii(last.split()[-1])}{i}".lower()
        email = f"{local}@{domain}"

        roll = rng.random()
        bad = roll < BAD_RATE
        if not bad and roll < BAD_RATE + DUPLICATE_RATE and recent:
            email = rng.choice(recent)  # the same person scanned twice
            shape = rng.random()
            if shape < 0.3:
                email = email.upper()
            elif shape < 0.5:
                email = f" {email} "
        elif not bad:
            recent.append(email)

        company = f"{rng.choice(COMPANY_HEAD)} {rng.choice(COMPANY_TAIL)}"
        if rng.random() < 0.02:
            company = f"{company}; filial {rng.choice(AREA_CODES)}"  # quoted by the writer
        amount = _amount(rng) if rng.random() < 0.8 else ""
        deadline = (
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2024, 2026)}"
            if rng.random() < 0.7
            else ""
        )
        if bad:
            if rng.random() < 0.5:
                email = rng.choice(BAD_EMAILS).format(
                    local=local, domain=domain, domain_no_dot=domain.split(".")[0]
                )
            else:
                amount = rng.choice(BAD_AMOUNTS)
        yield [
            name,
            email,
            _phone(rng) if rng.random() < 0.9 else "",
            company,
            rng.choice(TITLES),
            rng.choice(SOURCES),
            amount,
            deadline,
        ]


def write(n: int, out: Path, seed: int = SEED) -> None:
    """Write the header and `n` rows to `out`, streaming."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed))
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="number of data rows")
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("rows must be >= 0")
    write(args.rows, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
