-- Refunds of won deals (orders channel) in the credits ledger: each deal version records the share
-- of the deal's order amount refunded or cancelled and the day the warehouse learned of it (the
-- loaded_at of the delivery that carried the refund). A refund is a new deal version like any other
-- change of what is commissioned; the plans decide what it claws back (clawback: window, method).
alter table finance.deal_credits
    add column if not exists refunded_share numeric(9, 8) not null default 0
        check (refunded_share >= 0 and refunded_share <= 1),
    add column if not exists refunded_on date;
