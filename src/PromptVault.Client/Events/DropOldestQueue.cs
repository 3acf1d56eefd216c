namespace PromptVault.Client.Events;

/// <summary>
/// A bounded first-in-first-out ring of structs for many writers and one reader. A write into a full ring replaces the oldest
/// item and counts it dropped, so writers never wait; a write allocates nothing (the ring grows by doubling up to its capacity).
/// Items are copied in, so no queued item is an object of its own that the garbage collector must promote while it waits.
/// </summary>
internal sealed class DropOldestQueue<T>(int capacity) where T : struct
{
    private const int FirstSize = 64;

    private readonly Lock _lock = new();
    private T[] _items = new T[Math.Min(capacity, FirstSize)];
    private int _head;
    private int _count;
    private long _written;
    private long _dropped;
    private bool _completed;
    private TaskCompletionSource? _waiter;
    private int _wakeAt;

    public int Count
    {
        get { lock (_lock) return _count; }
    }

    /// <summary>Items ever written (dropped ones included).</summary>
    public long Written
    {
        get { lock (_lock) return _written; }
    }

    /// <summary>Items replaced by newer ones while the ring was full.</summary>
    public long Dropped
    {
        get { lock (_lock) return _dropped; }
    }

    public bool IsCompleted
    {
        get { lock (_lock) return _completed; }
    }

    /// <summary>Adds <paramref name="item"/>, replacing the oldest when full; false (and nothing written) once completed.</summary>
    public bool TryWrite(in T item, out bool droppedOne)
    {
        TaskCompletionSource? wake = null;
        lock (_lock)
        {
            droppedOne = false;
            if (_completed) return false;
            if (_count == capacity)
            {
                _items[_head] = default;
                _head = Next(_head);
                _count--;
                _dropped++;
                droppedOne = true;
            }
            else if (_count == _items.Length)
            {
                Grow();
            }
            _items[(_head + _count) % _items.Length] = item;
            _count++;
            _written++;
            if (_waiter is not null && _count >= _wakeAt) (wake, _waiter) = (_waiter, null);
        }
        wake?.TrySetResult();
        return true;
    }

    /// <summary>Moves the oldest items into <paramref name="batch"/> until it holds <paramref name="max"/>.</summary>
    public void ReadInto(List<T> batch, int max)
    {
        lock (_lock)
        {
            while (batch.Count < max && _count > 0)
            {
                batch.Add(_items[_head]);
                _items[_head] = default;
                _head = Next(_head);
                _count--;
            }
        }
    }

    /// <summary>Completes once the ring holds <paramref name="count"/> items, or is completed. For the one reader: a later call
    /// replaces the threshold of an earlier one still pending.</summary>
    public Task WaitForAsync(int count)
    {
        lock (_lock)
        {
            if (_count >= count || _completed) return Task.CompletedTask;
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _wakeAt = count;
            return _waiter.Task;
        }
    }

    /// <summary>Refuses further writes; the items queued can still be read. False when completed already.</summary>
    public bool Complete()
    {
        TaskCompletionSource? wake;
        lock (_lock)
        {
            if (_completed) return false;
            _completed = true;
            (wake, _waiter) = (_waiter, null);
        }
        wake?.TrySetResult();
        return true;
    }

    private int Next(int index) => index + 1 == _items.Length ? 0 : index + 1;

    private void Grow()
    {
        var grown = new T[(int)Math.Min(capacity, 2L * _items.Length)];
        for (var i = 0; i < _count; i++) grown[i] = _items[(_head + i) % _items.Length];
        _items = grown;
        _head = 0;
    }
}
