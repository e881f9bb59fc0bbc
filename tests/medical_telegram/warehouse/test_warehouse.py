"""redact(): no password of a DSN reaches a log line or an error message, whatever form the DSN takes."""

import psycopg
import pytest

from medical_telegram import warehouse
from medical_telegram.warehouse import redact


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://etl:s3cr%40t@db.example:5432/warehouse", "postgresql://etl:***@db.example:5432/warehouse"),
        ("postgresql://etl@db.example/warehouse?sslmode=require&password=s3cr%40t&application_name=medtel",
         "postgresql://etl@db.example/warehouse?sslmode=require&password=***&application_name=medtel"),
        ("postgres://db.example/warehouse?PASSWORD=s3cret", "postgres://db.example/warehouse?PASSWORD=***"),
        ("host=db.example user=etl password=s3cret dbname=warehouse",
         "host=db.example user=etl password=*** dbname=warehouse"),
        ("host=db.example password = 's3 cr\\'et' dbname=warehouse", "host=db.example password = *** dbname=warehouse"),
        ("host=db.example sslpassword=keyphrase", "host=db.example sslpassword=***"),
        ("postgresql://etl@db.example/warehouse", "postgresql://etl@db.example/warehouse"),
        ("host=db.example dbname=warehouse", "host=db.example dbname=warehouse"),
    ],
)
def test_redact_hides_passwords_in_uris_query_strings_and_keyword_dsns(dsn, shown):
    assert redact(dsn) == shown


def test_a_connection_error_names_the_server_but_not_the_password(admin_dsn):
    params = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    # a key=value DSN to a port nobody listens on
    dsn = f"host={params.get('host', '127.0.0.1')} port=1 user=etl password=hunter2secret connect_timeout=2"
    with pytest.raises(warehouse.WarehouseError) as error:
        warehouse.connect(dsn)
    assert "hunter2secret" not in str(error.value) and "password=***" in str(error.value)
