"""German. Same keys as the English catalog; a missing key falls back to English."""

MESSAGES: dict[str, str] = {
    # General
    "app.name": "TeamsWork",
    "welcome.title": "Willkommen bei TeamsWork",
    "welcome.body": (
        "Ticketsystem, Checklisten und CRM für Ihre gesamte Organisation, direkt in Teams. "
        "Eine Lizenz gilt für alle: keine Lizenzen pro Benutzer."
    ),
    "welcome.next": "Beginnen Sie mit einem Ticket, oder geben Sie **help** ein, um alles zu "
    "sehen, was ich kann.",
    "help.title": "Was ich kann",
    "help.intro": "Geben Sie einen Befehl ein (in einem Kanal erwähnen Sie mich zuerst mit @):",
    "help.cmd.help": "diese Liste",
    "help.cmd.new_ticket": "das Formular für ein neues Ticket öffnen",
    "help.cmd.new_ticket_title": "sofort ein Ticket erstellen",
    "help.cmd.tickets": "Tickets auflisten: meine, mir zugewiesene, nicht zugewiesene, offene, "
    "geschlossene oder alle",
    "help.cmd.ticket": "ein Ticket anzeigen",
    "help.cmd.roles": "wer Admin und wer Agent ist",
    "help.cmd.role": "die Rolle einer Person ändern (Admins)",
    "button.new_ticket": "Neues Ticket",
    "button.my_tickets": "Meine Tickets",
    "button.all_tickets": "Alle Tickets",
    "button.help": "Hilfe",
    "button.next": "Weiter",
    "button.previous": "Zurück",
    "button.open": "Öffnen",
    "button.create_ticket": "Ticket erstellen",
    "button.assign_me": "Mir zuweisen",
    "button.assign": "Zuweisen",
    "button.status": "Status",
    "button.priority": "Priorität",
    "button.comment": "Kommentar",
    "button.close": "Schließen",
    "button.reopen": "Wieder öffnen",
    "button.save": "Speichern",
    "button.change": "Ändern",
    "button.refresh": "Aktualisieren",
    "button.switch_plan": "Tarif wechseln",
    "button.send_comment": "Kommentar hinzufügen",
    "button.back_to_list": "Zurück zur Liste",
    "unknown.text": "Ich habe „{text}“ nicht verstanden.",
    "unknown.suggest": "Meinten Sie **{suggestion}**?",
    "unknown.hint": "Geben Sie **help** ein, um zu sehen, was ich kann.",
    # Errors
    "error.generic": "Entschuldigung, bei uns ist etwas schiefgelaufen. Es wurde nichts "
    "geändert. Bitte versuchen Sie es erneut. (Referenz: {ref})",
    "error.not_found": "Das wurde nicht gefunden.",
    "error.forbidden": "Dazu sind Sie nicht berechtigt.",
    "error.only_admins": "Das können nur Admins. Admins Ihrer Organisation: {admins}.",
    "error.invalid_transition": "Ein Ticket mit dem Status „{current}“ kann nicht auf "
    "„{target}“ gesetzt werden. Von „{current}“ aus ist möglich: {allowed}.",
    "error.invalid_input": "Bitte prüfen Sie die unten markierten Felder. Es wurde noch nichts "
    "gespeichert.",
    "error.no_tenant": "Ich arbeite innerhalb einer Microsoft Teams-Organisation, aber diese "
    "Nachricht kam ohne eine. Es wurde nichts geändert.",
    "error.no_sender": "Diese Nachricht sagt nicht, wer sie geschickt hat; darum kann ich nichts "
    "damit tun. Es wurde nichts geändert.",
    "error.bad_action": "Die Daten dieser Schaltfläche konnten nicht gelesen werden. Es wurde "
    "nichts geändert. Bitte öffnen Sie das Element erneut.",
    "error.too_large": "Das ist mehr, als ich auf einmal verarbeiten kann ({size} Zeichen, "
    "höchstens {max}). Es wurde nichts geändert.",
    "error.title": "Bitte beachten Sie Folgendes",
    "error.duplicate": "Das wurde bereits erledigt.",
    "field.required": "Dieses Feld ist ein Pflichtfeld.",
    "field.too_long": "Höchstens {max} Zeichen (Sie haben {length} eingegeben).",
    "field.choose_one": "Wählen Sie eine der folgenden Optionen: {allowed}.",
    "field.not_text": "Bitte geben Sie Text ein.",
    "field.bad_date": "Geben Sie ein Datum im Format 2026-12-31 ein.",
    "field.date_in_past": "Wählen Sie den {earliest} oder später.",
    "field.not_number": "Geben Sie eine Zahl in Ziffern ein, zum Beispiel 12.",
    "field.out_of_range": "Geben Sie eine Zahl von {min} bis {max} ein.",
    "field.too_many_digits": "Höchstens {max} Stellen vor dem Komma.",
    "field.too_many_places": "Höchstens {max} Stellen nach dem Komma.",
    "field.below_minimum": "Geben Sie {min} oder mehr ein.",
    # Tickets
    "ticket.form.title": "Neues Ticket",
    "ticket.field.title": "Titel",
    "ticket.field.description": "Beschreibung",
    "ticket.field.priority": "Priorität",
    "ticket.field.category": "Kategorie",
    "ticket.field.due": "Fälligkeitsdatum",
    "ticket.field.status": "Status",
    "ticket.field.requester": "Angefragt von",
    "ticket.field.assignee": "Zugewiesen an",
    "ticket.field.created": "Erstellt",
    "ticket.field.updated": "Aktualisiert",
    "ticket.placeholder.title": "Worum geht es? (1-200 Zeichen)",
    "ticket.placeholder.description": "Details, Schritte, Links (bis zu 4.000 Zeichen)",
    "ticket.placeholder.category": "z. B. Hardware, Zugriff, Abrechnung",
    "ticket.placeholder.comment": "Kommentar schreiben",
    "ticket.created": "Ticket #{number} wurde erstellt.",
    "ticket.updated": "Ticket #{number} wurde aktualisiert.",
    "ticket.heading": "#{number} {title}",
    "ticket.unassigned": "Nicht zugewiesen",
    "ticket.no_due": "Keines",
    "ticket.comments": "Kommentare",
    "ticket.no_comments": "Noch keine Kommentare.",
    "ticket.more_comments": "Ältere Kommentare werden nicht angezeigt: {count}.",
    "ticket.history": "Verlauf",
    "ticket.comment_line": "**{author}**, {at}",
    "ticket.usage": "Welches Ticket? Zum Beispiel: **ticket 12**",
    "ticket.choose_agent": "Agent auswählen",
    "ticket.choose_status": "Neuer Status",
    "ticket.choose_priority": "Neue Priorität",
    "ticket.changed_meanwhile": (
        "Ticket #{number} wurde geändert, seit diese Karte gesendet wurde: so sieht es jetzt aus."
    ),
    "card.as_of": "Stand: {at}",
    "history.created": "{actor} hat das Ticket erstellt",
    "history.status": "{actor} hat den Status von „{old}“ auf „{new}“ geändert",
    "history.priority": "{actor} hat die Priorität von „{old}“ auf „{new}“ geändert",
    "history.assignee": "{actor} hat das Ticket {new} zugewiesen",
    "tickets.not_found": "Ticket #{number} wurde nicht gefunden.",
    "tickets.only_agents_assign": "Nur Agenten und Admins können Tickets zuweisen.",
    "tickets.members_close_only": "Als Mitglied können Sie Ihre eigenen Tickets schließen und "
    "wieder öffnen; alle weiteren Schritte im Ablauf übernimmt der Helpdesk.",
    "tickets.assignee_not_agent": "Wählen Sie einen Agenten oder Admin Ihrer Organisation.",
    "tickets.list.title": "Tickets: {filter}",
    "tickets.list.empty": "Hier gibt es keine Tickets.",
    "tickets.list.page": "Seite {page} von {pages}, {total} Tickets",
    "tickets.list.line": "{status} · {priority} · {assignee} · aktualisiert am {updated}",
    "tickets.bad_filter": "Unbekannter Filter „{filter}“. Verwenden Sie einen der folgenden: "
    "{allowed}.",
    "filter.mine": "meine",
    "filter.assigned": "mir zugewiesen",
    "filter.unassigned": "nicht zugewiesen",
    "filter.open": "offen",
    "filter.closed": "geschlossen",
    "filter.all": "alle",
    "status.new": "Neu",
    "status.open": "Offen",
    "status.in_progress": "In Bearbeitung",
    "status.pending": "Wartend",
    "status.resolved": "Gelöst",
    "status.closed": "Geschlossen",
    "priority.low": "Niedrig",
    "priority.normal": "Normal",
    "priority.high": "Hoch",
    "priority.urgent": "Dringend",
    # Roles
    "roles.title": "Rollen in Ihrer Organisation",
    "roles.admins": "Admins",
    "roles.agents": "Agenten",
    "roles.nobody": "noch niemand",
    "roles.members_note": "Alle anderen sind Mitglieder: Mitglieder erstellen Tickets und sehen "
    "und bearbeiten ihre eigenen. Admins ändern Rollen mit **role @name admin|agent|member**.",
    "roles.changed": "{name} ist jetzt {role}.",
    "roles.last_admin": "Ihre Organisation braucht mindestens einen Admin: Machen Sie zuerst "
    "eine andere Person zum Admin.",
    "roles.unknown_user": "Diese Person kenne ich noch nicht: Bitten Sie sie, mir einmal eine "
    "Nachricht zu schreiben (zum Beispiel hilfe), und vergeben Sie dann die Rolle.",
    "roles.usage": "Erwähnen Sie die Person und nennen Sie die Rolle, zum Beispiel: "
    "**role @Alex agent** (admin, agent oder member).",
    "role.admin": "Admin",
    "role.agent": "Agent",
    "role.member": "Mitglied",
    # Subscription, quota, billing
    "help.cmd.usage": "in diesem Abrechnungszeitraum genutztes Kontingent, pro App",
    "help.cmd.plans": "die Tarife vergleichen",
    "help.cmd.change_plan": "den Tarif wechseln (Admins)",
    "help.cmd.cancel": "innerhalb von 72 Stunden nach dem Kauf kündigen (Admins)",
    "help.cmd.do_not_renew": "nach der bezahlten Laufzeit zum kostenlosen Tarif (Admins)",
    "help.cmd.call_off": "einen geplanten Tarifwechsel zurücknehmen (Admins)",
    "help.cmd.billing": "die Abrechnung dieses Zeitraums (Admins)",
    "help.cmd.billing_history": "die Abrechnungen der letzten zwölf Zeiträume (Admins)",
    "app.tickets": "Tickets",
    "app.checklists": "Checklisten",
    "app.opportunities": "Verkaufschancen",
    "term.monthly": "monatlich",
    "term.annual": "jährlich",
    "price.monthly": "{price} pro Monat",
    "price.annual": "{price} pro Jahr",
    "button.plans": "Tarife anzeigen",
    "button.usage": "Nutzung",
    "button.keep_plan": "Tarif beibehalten",
    "button.billing_history": "Abrechnungsverlauf",
    "usage.title": "Kontingent in diesem Abrechnungszeitraum",
    "usage.plan": "Tarif: **{plan}** ({term}). Abrechnungszeitraum {period}; das Kontingent "
    "erneuert sich am {renews} (UTC).",
    "usage.line": "{app}: {used} von {limit} ({percent})",
    "plans.title": "Tarife",
    "plans.intro": "Eine Lizenz gilt für Ihre gesamte Organisation, mit unbegrenzt vielen "
    "Benutzern; jeder Tarif legt fest, wie viele neue Elemente jede App pro "
    "Abrechnungszeitraum erstellen darf (Abrechnung: {term}).",
    "plans.current": "aktuell",
    "plans.quota": "{count} {app}",
    "plans.other_term": "Jahrestarife: Kontingent für zwölf Monate zum Preis von zehn Monaten",
    "plans.choose_label": "Wechseln zu",
    "plans.option": "{plan} ({term}, {price})",
    "plans.ask_admin": "Bitten Sie einen Admin Ihrer Organisation, den Tarif zu wechseln.",
    "change.title": "Von {current} zu {target} wechseln?",
    "change.done_title": "Ihre Organisation nutzt jetzt {target}",
    "change.restart": "Am {start} (UTC) beginnt ein neuer Abrechnungszeitraum ({term}) mit neuem "
    "Kontingent.",
    "change.prorated": "Die Änderung gilt sofort. Anteilige Abrechnung: Dieser "
    "Abrechnungszeitraum ({period}) wird tageweise nach dem jeweiligen Tarif berechnet:",
    "change.total": "Voraussichtlich für den ganzen Abrechnungszeitraum: {total}",
    "change.accrued": "Bisher angefallen (bis heute, UTC): {accrued}",
    "change.quota_title": "Kontingent in diesem Abrechnungszeitraum nach der Änderung",
    "change.quota_line": "{app}: {limit} (bisher genutzt: {used})",
    "change.over_limit": "Die Nutzung hat das neue Kontingent für {app} bereits erreicht: Neue "
    "{app} können erst nach der Erneuerung des Kontingents wieder erstellt werden. Es wird "
    "nichts gelöscht.",
    "change.confirm": "Zu {plan} wechseln",
    "cancel.title": "{plan} kündigen?",
    "cancel.explain": "Ihr Kauf liegt weniger als 72 Stunden zurück: Bei einer Kündigung "
    "werden {refund} vollständig erstattet, und Ihre Organisation wechselt sofort zu {free}. "
    "Alle Daten bleiben erhalten. Diese Frist endet am {deadline}.",
    "cancel.confirm": "Abonnement kündigen",
    "cancel.done_title": "Abonnement gekündigt",
    "cancel.done": "{plan} wurde gekündigt, und {refund} wurden erstattet. Ihre Organisation "
    "nutzt jetzt {free}; alle Daten bleiben erhalten.",
    "billing.title": "Abrechnung",
    "billing.period": "{start} bis {end}",
    "billing.current": "Aktueller Abrechnungszeitraum: {period}",
    "billing.past": "Abrechnungszeitraum {period}",
    "billing.days": "{days} Tage",
    "billing.day": "{days} Tag",
    "billing.voided": "{days}, innerhalb von 72 Stunden storniert",
    "billing.refund": "Erstattung",
    "billing.total": "Summe: {total}",
    "billing.projected": "Voraussichtliche Summe für den ganzen Abrechnungszeitraum: {total}",
    "billing.accrued": "Bisher angefallen (bis heute, UTC): {accrued}",
    "billing.unknown_plan": "Es gibt keinen Tarif „{plan_id}“. Tarife: {valid}.",
    "billing.same_plan": "Ihre Organisation nutzt bereits {plan}.",
    "billing.term_change": "Ein Tarifwechsel ist nur bei gleicher Abrechnungsart möglich: Ihre "
    "Organisation zahlt {current_term}, dieser Tarif wird {target_term} abgerechnet. Wählen Sie "
    "einen Tarif, der ebenfalls {current_term} abgerechnet wird.",
    "billing.cancel_window_closed": "Ein Kauf kann innerhalb von 72 Stunden storniert werden; "
    "diese Frist ist am {closed_at} abgelaufen.",
    "billing.nothing_to_cancel": "Ihre Organisation nutzt {plan}: Es gibt keinen Kauf, der "
    "storniert werden könnte.",
    "billing.plan_usage": "Welcher Tarif? Zum Beispiel: **change plan standard**.",
    "billing.annual_term": "Eine jährliche Laufzeit endet erst an ihrem Ende: {plan} läuft bis "
    "zum Verlängerungsdatum. Um dann zu wechseln, schreiben Sie **do not renew** (ab Ende der "
    "Laufzeit kostenlos); innerhalb von 72 Stunden nach dem Kauf erstattet **cancel "
    "subscription** den vollen Betrag.",
    "billing.nothing_scheduled": "Es ist keine Änderung geplant: {plan} verlängert sich wie "
    "gewohnt.",
    "billing.no_term_to_end": "Ihre Organisation nutzt {plan}: Es gibt keine bezahlte Laufzeit, "
    "die enden könnte.",
    "change.scheduled": "Die bisherige Nutzung in diesem Abrechnungszeitraum passt nicht zu "
    "{target}, daher ist die Änderung für die Verlängerung am {on} (00:00 UTC) geplant. Bis "
    "dahin bleibt {current}, und die Abrechnung dieses Zeitraums ändert sich nicht.",
    "change.scheduled_line": "{app}: {used} genutzt; {target} würde in diesem Zeitraum {limit} "
    "erlauben",
    "change.schedule_confirm": "{plan} für den {on} planen",
    "change.scheduled_title": "{target} ist ab dem {on} (UTC) geplant",
    "scheduled.line": "Geplant: **{target}** ab dem {on} (00:00 UTC) statt einer Verlängerung "
    "von {current}. Ein Admin kann dies absagen.",
    "scheduled.call_off": "Änderung absagen",
    "scheduled.called_off_title": "Änderung abgesagt",
    "scheduled.called_off": "{current} bleibt und verlängert sich wie gewohnt; der Wechsel zu "
    "{target} am {on} (UTC) findet nicht statt.",
    "end.title": "{plan} nicht verlängern?",
    "end.explain": "{plan} läuft bis zum Ende der Laufzeit und wird nicht verlängert: Ab dem "
    "{on} (00:00 UTC) nutzt Ihre Organisation {free}. Jetzt wird nichts erstattet oder "
    "berechnet; alle Daten bleiben erhalten. Ein Admin kann dies bis dahin absagen.",
    "end.confirm": "Nicht verlängern",
    "end.done_title": "{plan} wird nicht verlängert",
    "end.done": "Ab dem {on} (00:00 UTC) nutzt Ihre Organisation {free}. Bis dahin ändert sich "
    "nichts.",
    "quota.exceeded": "Ihre Organisation hat das Kontingent von {limit} {app} für diesen "
    "Abrechnungszeitraum im Tarif {plan} ausgeschöpft ({used} von {limit}). Neue {app} können "
    "wieder erstellt werden, sobald sich das Kontingent am {renews} (UTC) erneuert, oder sofort, "
    "nachdem ein Admin ein Upgrade durchgeführt hat. Alles andere funktioniert weiterhin.",
    "quota.upgrades": "Tarife mit mehr Kontingent:",
    "quota.kept": "Ihre Eingabe bleibt unten erhalten: Senden Sie sie nach dem Upgrade oder der "
    "Erneuerung noch einmal.",
    "quota.near_banner": "{app}: {percent} des Kontingents für diesen Abrechnungszeitraum "
    "genutzt (erneuert sich am {renews} UTC).",
    "subscription.suspended": "Das Abonnement Ihrer Organisation ist im Microsoft Marketplace "
    "ausgesetzt, daher können keine neuen Elemente erstellt werden. Alles andere funktioniert "
    "weiterhin; ein Admin kann dies im Microsoft 365 Admin Center klären.",
    # CRM
    "help.cmd.new_opportunity": "das Formular für eine neue Chance öffnen",
    "help.cmd.new_opportunity_name": "sofort eine Chance anlegen (Phase Lead)",
    "help.cmd.opportunities": "Chancen auflisten: meine, offene, gewonnene, verlorene, eine "
    "Phase oder alle",
    "help.cmd.opportunity": "eine Chance anzeigen",
    "help.cmd.pipeline": "die Pipeline: je Phase Anzahl, Summe und gewichtete Summe, je Währung",
    "help.cmd.pipeline_mine": "die Pipeline Ihrer eigenen Chancen",
    "help.cmd.accounts": "Konten auflisten, oder die, deren Name ein Wort enthält",
    "help.cmd.account": "ein Konto mit seinen Kontakten und Chancen anzeigen",
    "help.cmd.contacts": "Kontakte auflisten, oder die, deren Name ein Wort enthält",
    "help.cmd.contact": "einen Kontakt mit seinen Chancen anzeigen",
    "stage.lead": "Lead",
    "stage.qualified": "Qualifiziert",
    "stage.proposal": "Angebot",
    "stage.negotiation": "Verhandlung",
    "stage.won": "Gewonnen",
    "stage.lost": "Verloren",
    "crm.filter.mine": "meine",
    "crm.filter.open": "offen",
    "crm.filter.won": "gewonnen",
    "crm.filter.lost": "verloren",
    "crm.filter.lead": "Lead",
    "crm.filter.qualified": "qualifiziert",
    "crm.filter.proposal": "Angebot",
    "crm.filter.negotiation": "Verhandlung",
    "crm.filter.all": "alle",
    "crm.form.title": "Neue Chance",
    "crm.field.name": "Name",
    "crm.field.account": "Konto",
    "crm.field.contact": "Kontakt",
    "crm.field.contact_email": "E-Mail des Kontakts",
    "crm.field.amount": "Betrag",
    "crm.field.currency": "Währung",
    "crm.field.close_date": "Erwarteter Abschluss",
    "crm.field.next_step": "Nächster Schritt",
    "crm.field.stage": "Phase",
    "crm.field.probability": "Wahrscheinlichkeit",
    "crm.field.own_probability": "Wahrscheinlichkeit in % (leer: die der Phase)",
    "crm.field.weighted": "Gewichtet",
    "crm.field.owner": "Verantwortlich",
    "crm.field.lost_reason": "Verloren, weil",
    "crm.field.lost_reason_when_lost": "Grund (nötig bei verloren)",
    "crm.field.closed_on": "Abgeschlossen am",
    "crm.field.updated": "Aktualisiert",
    "crm.field.number": "Nummer",
    "crm.field.domain": "Domain",
    "crm.field.notes": "Notizen",
    "crm.field.email": "E-Mail",
    "crm.field.phone": "Telefon",
    "crm.field.job_role": "Funktion",
    "crm.field.name_filter": "Name enthält",
    "crm.placeholder.name": "Worum geht es? (1-200 Zeichen)",
    "crm.placeholder.account": "Firma; ein neuer Name legt das Konto an",
    "crm.placeholder.contact": "Person; ein neuer Name legt den Kontakt an",
    "crm.placeholder.contact_email": "name@firma.example",
    "crm.placeholder.amount": "z. B. 12500,00 (höchstens 2 Nachkommastellen)",
    "crm.placeholder.currency": "EUR, USD, CHF, ... (leer: EUR)",
    "crm.placeholder.next_step": "z. B. Angebot bis Freitag schicken",
    "crm.placeholder.probability": "{percent} laut Phase",
    "crm.placeholder.note": "Notiz schreiben",
    "crm.placeholder.domain": "firma.example",
    "crm.none": "Keine",
    "crm.ref": "{name} (#{number})",
    "crm.heading": "#{number} {name}",
    "crm.created": "Chance #{number} wurde angelegt.",
    "crm.updated": "Chance #{number} wurde aktualisiert.",
    "crm.account_updated": "Das Konto wurde aktualisiert.",
    "crm.contact_updated": "Der Kontakt wurde aktualisiert.",
    "crm.notes": "Notizen",
    "crm.no_notes": "Noch keine Notizen.",
    "crm.more_notes": "Ältere Notizen werden nicht angezeigt: {count}.",
    "crm.note_line": "**{author}**, {at}",
    "crm.history": "Verlauf",
    "crm.history.created": "{actor} hat die Chance angelegt",
    "crm.history.stage": "{actor} hat sie von {old} nach {new} verschoben",
    "crm.history.probability": "{actor} hat die Wahrscheinlichkeit von {old} auf {new} geändert",
    "crm.history.amount": "{actor} hat den Betrag von {old} auf {new} geändert",
    "crm.history.currency": "{actor} hat die Währung von {old} auf {new} geändert",
    "crm.history.close_date": "{actor} hat den Abschlusstermin von {old} auf {new} geändert",
    "crm.history.next_step": "{actor} hat den nächsten Schritt geändert: {new}",
    "crm.history.owner": "{actor} hat sie von {old} an {new} übergeben",
    "crm.history.lost_reason": "{actor} hat den Grund genannt: {new}",
    "crm.history.other": "{actor} hat {field} von {old} auf {new} geändert",
    "crm.choose_stage": "Verschieben nach",
    "crm.usage": "Welche Chance? Zum Beispiel: **opportunity 12**",
    "crm.account_usage": "Welches Konto? Zum Beispiel: **account 3**",
    "crm.contact_usage": "Welcher Kontakt? Zum Beispiel: **contact 3**",
    "crm.bad_filter": "Unbekannter Filter „{filter}“. Möglich sind: {allowed}.",
    "crm.unknown_currency": "Geben Sie einen gültigen ISO-4217-Währungscode ein, etwa EUR, USD "
    "oder CHF.",
    "crm.bad_email": "Geben Sie eine E-Mail-Adresse wie name@firma.example ein.",
    "crm.bad_domain": "Geben Sie eine Domain wie firma.example ein.",
    "crm.bad_phone": "Geben Sie eine Telefonnummer in Ziffern ein, etwa +49 30 1234567.",
    "crm.contact_name_needed": "Nennen Sie zur E-Mail auch den Namen des Kontakts.",
    "crm.stage_unchanged": "Die Chance ist bereits in der Phase {stage}.",
    "crm.already_closed": "Die Chance ist abgeschlossen ({stage}): öffnen Sie sie wieder oder "
    "wählen Sie eine Phase.",
    "crm.not_closed": "Nur eine gewonnene oder verlorene Chance kann wieder geöffnet werden.",
    "crm.lost_reason_required": "Geben Sie an, warum die Chance verloren wurde.",
    "crm.closed_probability": "Eine gewonnene oder verlorene Chance behält 100 % oder 0 %; "
    "öffnen Sie sie zuerst wieder.",
    "crm.owner_unknown": "Wählen Sie jemanden aus Ihrer Organisation, der den Bot schon "
    "genutzt hat.",
    "crm.list.title": "Chancen: {filter}",
    "crm.list.empty": "Hier gibt es keine Chancen.",
    "crm.list.page": "Seite {page} von {pages}, {total} Chancen",
    "crm.list.line": "{stage} · {amount} · {account} · verantwortlich {owner}",
    "crm.related": "Chancen",
    "crm.pipeline.title": "Pipeline",
    "crm.pipeline.mine": "Meine Pipeline",
    "crm.pipeline.stage": "{stage} ({percent})",
    "crm.pipeline.figures": "{count} · {total} · gewichtet {weighted}",
    "crm.pipeline.figures_won": "{count} · {total}",
    "crm.pipeline.empty_stage": "Nichts in dieser Phase.",
    "crm.pipeline.open": "Offen insgesamt",
    "crm.pipeline.nothing_open": "Keine offenen Chancen.",
    "crm.pipeline.won": "Gewonnen im Q{quarter} {year}",
    "crm.pipeline.nothing_won": "In diesem Quartal noch nichts gewonnen.",
    "crm.accounts.title": "Konten",
    "crm.accounts.filtered": "Konten mit „{filter}“",
    "crm.accounts.empty": "Hier gibt es keine Konten. Eine Chance, die eine Firma nennt, legt "
    "sie an.",
    "crm.accounts.page": "Seite {page} von {pages}, {total} Konten",
    "crm.contacts.title": "Kontakte",
    "crm.contacts.filtered": "Kontakte mit „{filter}“",
    "crm.contacts.empty": "Hier gibt es keine Kontakte. Eine Chance, die eine Person nennt, "
    "legt sie an.",
    "crm.contacts.page": "Seite {page} von {pages}, {total} Kontakte",
    "crm.contacts.line": "{account} · {email}",
    "crm.notify.owner": "{actor} hat Ihnen die Chance #{number} übergeben",
    "crm.notify.stage": "Phase: {stage}",
    "button.create_opportunity": "Chance anlegen",
    "button.new_opportunity": "Neue Chance",
    "button.next_stage": "Weiter",
    "button.reopen_opportunity": "Wieder öffnen",
    "button.stage": "Phase",
    "button.edit": "Bearbeiten",
    "button.note": "Notiz",
    "button.add_note": "Notiz hinzufügen",
    "button.pipeline": "Pipeline",
    "button.my_pipeline": "Meine Pipeline",
    "button.whole_pipeline": "Ganze Pipeline",
    "button.opportunities": "Chancen",
    "button.search": "Suchen",
    "button.accounts": "Konten",
    "button.account": "Konto",
    "button.contacts": "Kontakte",
    # Proactive messages
    "warning.title_near": "Kontingent für {app} fast ausgeschöpft",
    "warning.title_reached": "Kontingent für {app} ausgeschöpft",
    "warning.near": "Ihre Organisation hat in diesem Abrechnungszeitraum {used} von {limit} "
    "{app} genutzt ({percent}). Das Kontingent erneuert sich am {renews} (UTC). Die Arbeit "
    "geht wie gewohnt weiter; ein Admin kann ein Upgrade durchführen, um mehr zu erhalten.",
    "warning.reached": "Ihre Organisation hat alle {limit} {app} dieses Abrechnungszeitraums "
    "genutzt. Neue {app} können ab dem {renews} (UTC) wieder erstellt werden, oder sofort, nachdem "
    "ein Admin ein Upgrade durchgeführt hat. Alles andere funktioniert weiterhin.",
    "notify.commented": "{actor} hat Ihr Ticket #{number} kommentiert",
    "notify.status": "{actor} hat den Status Ihres Tickets #{number} auf „{status}“ gesetzt",
    "notify.resolved": "{actor} hat Ihr Ticket #{number} gelöst",
    "notify.assigned": "{actor} hat Ihnen das Ticket #{number} zugewiesen",
    # Checklists and reminders
    "button.all": "Alle",
    "button.approve": "Freigeben",
    "button.archive": "Archivieren",
    "button.check": "Abhaken",
    "button.uncheck": "Zurücksetzen",
    "button.create_template": "Vorlage anlegen",
    "button.my_checklists": "Meine Checklisten",
    "button.new_checklist": "Neue Checkliste",
    "button.new_template": "Neue Vorlage",
    "button.restore": "Wiederherstellen",
    "button.return": "Zurückgeben",
    "button.start_checklist": "Starten",
    "button.submit": "Einreichen",
    "checkliststatus.in_progress": "In Bearbeitung",
    "checkliststatus.submitted": "Eingereicht",
    "checkliststatus.approved": "Freigegeben",
    "checkliststatus.returned": "Zurückgegeben",
    "checklistfilter.mine": "meine",
    "checklistfilter.assigned": "mir zugewiesen",
    "checklistfilter.review": "zu prüfen",
    "checklistfilter.open": "offen",
    "checklistfilter.overdue": "überfällig",
    "checklistfilter.all": "alle",
    "checklists.approved": "Checkliste #{number} ist freigegeben.",
    "checklists.archived": "Diese Vorlage ist archiviert: Es starten keine neuen Checklisten "
    "daraus.",
    "checklists.bad_filter": "Den Filter „{filter}“ kenne ich nicht. Wählen Sie: {allowed}.",
    "checklists.blank": "Leer: Punkte unten eingeben",
    "checklists.checked_by": "abgehakt von {name}, {at}",
    "checklists.field.assignee": "Zuständig",
    "checklists.field.description": "Beschreibung",
    "checklists.field.due": "Fällig am",
    "checklists.field.item": "Punkt",
    "checklists.field.items": "Punkte, einer pro Zeile (* markiert einen Pflichtpunkt)",
    "checklists.field.items_blank": "Punkte, einer pro Zeile, für eine leere Checkliste (* = "
    "Pflicht)",
    "checklists.field.note": "Notiz",
    "checklists.field.return_comment": "Was noch einmal zu tun ist",
    "checklists.field.reviewer": "Prüfer",
    "checklists.field.starter": "Gestartet von",
    "checklists.field.status": "Status",
    "checklists.field.template": "Vorlage",
    "checklists.field.title": "Titel",
    "checklists.form.title": "Checkliste starten",
    "checklists.heading": "Checkliste #{number}: {title}",
    "checklists.item_too_long": "Punkt {line} ist zu lang: höchstens {max} Zeichen.",
    "checklists.items_hint": "Ein Punkt pro Zeile; beginnen Sie eine Zeile mit *, wird der "
    "Punkt Pflicht.",
    "checklists.list_empty": "Hier gibt es keine Checklisten.",
    "checklists.list_line": "{done}/{total} · {status} · {assignee} · fällig {due}",
    "checklists.list_page": "Seite {page} von {pages}, {total} Checklisten",
    "checklists.list_title": "Checklisten: {filter}",
    "checklists.no_items": "Geben Sie mindestens einen Punkt ein.",
    "checklists.no_such_item": "Diese Checkliste hat keinen Punkt {position}.",
    "checklists.no_template_named": "Keine Vorlage heißt „{typed}“. Mit **vorlagen** sehen "
    "Sie alle.",
    "checklists.no_templates": "Noch keine Vorlagen.",
    "checklists.nobody": "niemand",
    "checklists.not_for_review": "Diese Checkliste wartet nicht auf eine Prüfung (Status: "
    "{status}).",
    "checklists.not_open": "Diese Checkliste ist {status}: Ihre Punkte ändern sich nicht mehr.",
    "checklists.notify.assigned": "{actor} hat Ihnen die Checkliste #{number} „{title}“ "
    "zugewiesen.",
    "checklists.notify.submitted": "{actor} hat die Checkliste #{number} „{title}“ zur "
    "Prüfung eingereicht.",
    "checklists.notify.approved": "{actor} hat die Checkliste #{number} „{title}“ freigegeben.",
    "checklists.notify.returned": "{actor} hat Ihnen die Checkliste #{number} „{title}“ "
    "zurückgegeben.",
    "checklists.only_agents_manage_templates": "Nur Agenten und Admins verwalten Vorlagen.",
    "checklists.only_assignee_submits": "Nur {name}, zuständig für diese Checkliste, kann sie "
    "einreichen.",
    "checklists.only_reviewer": "Nur der Prüfer, {name}, kann diese Checkliste freigeben oder "
    "zurückgeben.",
    "checklists.overdue_due": "{due} (überfällig)",
    "checklists.placeholder.items": "Laptop bereit\n* Konten angelegt\nBegrüßungsessen",
    "checklists.placeholder.template_title": "Einarbeitung neuer Mitarbeiter",
    "checklists.placeholder.title": "Einarbeitung: Alex",
    "checklists.progress": "{done}/{total} erledigt",
    "checklists.required": "Pflicht",
    "checklists.required_open": "Pflichtpunkte sind noch offen ({count}): {items}",
    "checklists.returned": "Checkliste #{number} ging mit Ihrem Kommentar zurück.",
    "checklists.started": "Checkliste #{number} wurde gestartet.",
    "checklists.submitted": "Checkliste #{number} ist eingereicht.",
    "checklists.submitted_review": "Checkliste #{number} ist zur Prüfung eingereicht.",
    "checklists.tap_hint": "Tippen Sie auf einen Punkt, um ihn abzuhaken oder zurückzusetzen.",
    "checklists.template_ambiguous": "Mehrere Vorlagen ({count}) passen zu „{typed}“.",
    "checklists.template_archived": "Vorlage T{number} ist archiviert.",
    "checklists.template_count": "{count} Punkte",
    "checklists.template_created": "Vorlage T{number} wurde angelegt.",
    "checklists.template_form.edit": "Vorlage T{number} bearbeiten",
    "checklists.template_form.title": "Neue Checklisten-Vorlage",
    "checklists.template_gone": "Diese Vorlage ist archiviert oder gelöscht: Wählen Sie eine "
    "andere.",
    "checklists.template_heading": "Vorlage T{number}: {title}",
    "checklists.template_line": "{count} Punkte · von {author} · geändert {updated}",
    "checklists.template_restored": "Vorlage T{number} ist wieder in Gebrauch.",
    "checklists.template_updated": "Vorlage T{number} wurde gespeichert. Laufende Checklisten "
    "behalten ihre Punkte.",
    "checklists.template_usage": "Welche Vorlage? Zum Beispiel: **vorlage 3**",
    "checklists.templates_page": "Seite {page} von {pages}, {total} Vorlagen",
    "checklists.templates_title": "Checklisten-Vorlagen",
    "checklists.too_many_items": "Höchstens {max} Punkte (Sie haben {count} eingegeben).",
    "checklists.unknown_person": "Diese Person kenne ich noch nicht: Sie muss mir zuerst "
    "einmal schreiben.",
    "checklists.updated": "Checkliste #{number} wurde aktualisiert.",
    "checklists.usage": "Welche Checkliste? Zum Beispiel: **checkliste 12**",
    "checklists.which_template": "Mehrere Vorlagen ({count}) passen zu „{typed}“: Welche "
    "meinen Sie?",
    "help.cmd.checklist": "eine Checkliste anzeigen",
    "help.cmd.checklists": "Checklisten anzeigen: meine, zugewiesen, prüfen, offen, "
    "überfällig oder alle",
    "help.cmd.new_checklist": "eine Checkliste starten (Formular)",
    "help.cmd.new_checklist_template": "eine Checkliste aus einer Vorlage starten, nach Name "
    "oder Nummer",
    "help.cmd.new_template": "eine Checklisten-Vorlage anlegen (Agenten und Admins)",
    "help.cmd.template": "eine Vorlage anzeigen",
    "help.cmd.templates": "die Checklisten-Vorlagen anzeigen",
    "reminders.title": "Heute fällig oder überfällig: {count}",
    "reminders.overdue": "überfällig seit {due}",
    "reminders.today": "heute fällig",
    "reminders.kind.tickets": "Ticket",
    "reminders.kind.checklists": "Checkliste",
    # The marketplace: landing page and chat
    "marketplace.offer": "Angebot",
    "marketplace.subscription": "Abonnement",
    "marketplace.plan": "Tarif",
    "marketplace.purchaser": "Gekauft von",
    "marketplace.beneficiary": "Für",
    "marketplace.organization": "Organisation (Mandant)",
    "marketplace.signed_in_as": "Angemeldet als",
    "marketplace.activate": "Aktivieren",
    "marketplace.confirm.title": "TeamsWork-Abonnement aktivieren",
    "marketplace.confirm.text": "Prüfen Sie den Kauf und aktivieren Sie ihn dann. Die "
    "Abrechnung über Microsoft beginnt mit der Aktivierung.",
    "marketplace.done.title": "Ihr Abonnement ist aktiv",
    "marketplace.done.text": "Die Organisation {organization} hat jetzt ihren Tarif. Wer ihn "
    "gekauft hat, ist Admin von TeamsWork: sofort, wenn er den Bot schon nutzt, sonst ab seiner "
    "ersten Nachricht an ihn.",
    "marketplace.next_steps": "Als Nächstes: Fügen Sie die App TeamsWork in Microsoft Teams "
    "hinzu und schreiben Sie dem Bot.",
    "marketplace.open_teams": "TeamsWork in Microsoft Teams öffnen",
    "marketplace.active.title": "Dieses Abonnement ist bereits aktiv",
    "marketplace.active.text": "Hier ist nichts mehr zu tun: Das Abonnement wurde schon aktiviert.",
    "marketplace.invalid.title": "Dieser Link ist ungültig",
    "marketplace.invalid.text": "Der Kauflink ist abgelaufen oder ungültig. Öffnen Sie das "
    'Abonnement im Microsoft 365 Admin Center und wählen Sie erneut "Konto verwalten".',
    "marketplace.other_tenant.title": "Kauf einer anderen Organisation",
    "marketplace.other_tenant.text": "Sie sind mit einem Konto einer Organisation angemeldet, "
    "die dieses Abonnement weder gekauft hat noch erhält. Melden Sie sich mit einem Konto der "
    "kaufenden Organisation an.",
    "marketplace.failure.title": "Der Microsoft Marketplace hat nicht geantwortet",
    "marketplace.failure.text": "Der Microsoft Marketplace war gerade nicht erreichbar. Es "
    "wurde nichts geändert; bitte versuchen Sie es in ein paar Minuten erneut.",
    "marketplace.signin_failed.title": "Die Anmeldung hat nicht funktioniert",
    "marketplace.signin_failed.text": "Microsoft hat Ihre Anmeldung nicht bestätigt. Öffnen Sie "
    "den Kauflink erneut.",
    "marketplace.forbidden.title": "Anfrage abgelehnt",
    "marketplace.forbidden.text": "Dieses Formular ist veraltet oder stammt nicht von dieser "
    "Seite. Öffnen Sie den Kauflink erneut.",
    "marketplace.unmapped.title": "Dieser Tarif ist nicht verfügbar",
    "marketplace.unmapped.text": "Den Tarif {plan} bieten wir nicht an. Es wurde nichts "
    "aktiviert; bitte wenden Sie sich an den Support.",
    "marketplace.unmapped_plan": "Der Marketplace-Tarif {plan} steht nicht im Tarifkatalog.",
    "marketplace.quantity_not_applicable": "Ein Abonnement ist eine Lizenz für die ganze "
    "Organisation, für beliebig viele Benutzer: Seine Anzahl ändert sich nicht.",
    "marketplace.unknown_action": "Unbekannte Marketplace-Aktion {action}.",
    "marketplace.change_requested": "Das Abonnement Ihrer Organisation läuft über den "
    "Microsoft Marketplace: Die Änderung zu {plan} wurde dorthin gesendet und gilt, sobald der "
    "Marketplace sie bestätigt.",
    "help.cmd.language": "die Sprache meiner Beiträge in Kanälen und Gruppenchats (Admins)",
    "organization.language_usage": "Nennen Sie die Sprache: **sprache de** oder **sprache "
    "en** ({allowed}).",
    "organization.language_set": "Ab jetzt schreibe ich in Kanälen und Gruppenchats auf: "
    "{language}. Alle behalten die Sprache ihrer eigenen "
    "Nachrichten.",
    # The Teams app's store listing (app_manifest)
    "manifest.name_short": "TeamsWork",
    "manifest.name_full": "TeamsWork: Tickets, Checklisten und CRM",
    "manifest.description_short": "Tickets, Checklisten und Vertriebspipeline, direkt in Teams.",
    "manifest.description_full": "TeamsWork bringt Helpdesk-Tickets und Checklisten in "
    "Microsoft Teams, mit einem Abonnement für Ihre ganze "
    "Organisation. Öffnen Sie ein Ticket aus jedem Chat oder "
    "Kanal mit „neues ticket“, oder tippen Sie „neues ticket "
    "<titel>“, um es sofort anzulegen. Mit „tickets“ sehen Sie "
    "Ihre, zugewiesene, offene oder geschlossene Tickets, und "
    "mit „ticket <nummer>“ öffnen Sie eines, um es zuzuweisen, "
    "Status oder Priorität zu ändern, zu kommentieren, zu "
    "schließen oder wieder zu öffnen. Wiederkehrende Abläufe "
    "laufen als Checklisten: Agenten pflegen Vorlagen („neue "
    "vorlage“, „vorlagen“), jeder startet eine mit „neue "
    "checkliste“, hakt Punkte auf der Karte ab und reicht sie "
    "zur Prüfung ein; „checklisten“ zeigt Ihre, die zu prüfenden "
    "und die überfälligen, und Zuständige erhalten täglich eine "
    "Erinnerung. Auch Ihre Verkaufschancen bleiben in Teams: "
    "„neue chance“ erfasst eine Chance mit Konto, Kontakt, "
    "Betrag und Währung, „chancen“ und „pipeline“ zeigen, wo "
    "jede Chance steht, je Phase und Währung, und „konten“ und "
    "„kontakte“ listen Ihre Kunden. Admins vergeben Rollen mit "
    "„rolle @person admin|agent|mitglied“. Das Kontingent dieses "
    "Abrechnungszeitraums zeigt „verbrauch“, die Tarife "
    "„tarife“, die Abrechnung „abrechnung“; die Organisation "
    "wird gewarnt, bevor ihr Kontingent aufgebraucht ist. "
    "„hilfe“ zeigt jederzeit alles, was der Bot kann.",
}
