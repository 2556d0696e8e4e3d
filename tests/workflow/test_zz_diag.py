import threading
from celery import _state
def test_diag():
    r=[]
    t=threading.Thread(target=lambda: r.append(id(_state.get_current_app()))); t.start(); t.join()
    print("\nDIAG main", id(_state.get_current_app()), "default", id(_state.default_app), "thread", r)
    from transfer_portal.celery import app
    print("DIAG project app", id(app))
